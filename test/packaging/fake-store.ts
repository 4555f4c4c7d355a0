// An in-memory CertStore with the API server's optimistic concurrency (resourceVersion, 409 on a stale write).
import { randomUUID } from 'node:crypto';
import { CONFLICT } from '../../src/certs/store.js';
import type { CertStore, WebhookConfigLike } from '../../src/certs/store.js';
import type { SecretLike } from '../../src/certs/state.js';

export interface FakeCluster {
  secret: SecretLike | undefined;
  webhook: WebhookConfigLike | undefined;
  /** a store as one replica sees it */
  store(): CertStore;
  /** base64 caBundle of every webhook */
  bundles(): string[];
}

let rv = 1;
const clone = <T>(v: T): T => structuredClone(v);

export function fakeCluster(webhookNames = ['enforce.portcullis.dev', 'audit.portcullis.dev']): FakeCluster {
  const cluster: FakeCluster = {
    secret: undefined,
    webhook: {
      metadata: { name: 'portcullis', uid: randomUUID(), resourceVersion: String(rv++) },
      webhooks: webhookNames.map((name) => ({ name, clientConfig: {} })),
    },
    store: () => ({
      getSecret: async () => clone(cluster.secret),
      createSecret: async (secret) => {
        if (cluster.secret) return CONFLICT;
        cluster.secret = clone({ ...secret, metadata: { ...secret.metadata, uid: randomUUID(), resourceVersion: String(rv++) } });
        return clone(cluster.secret);
      },
      replaceSecret: async (secret) => {
        if (!cluster.secret || cluster.secret.metadata?.resourceVersion !== secret.metadata?.resourceVersion) return CONFLICT;
        cluster.secret = clone({ ...secret, metadata: { ...secret.metadata, resourceVersion: String(rv++) } });
        return clone(cluster.secret);
      },
      getWebhookConfig: async () => clone(cluster.webhook),
      patchWebhookBundle: async (current, caBundle, annotations) => {
        const live = cluster.webhook;
        if (!live || live.metadata?.resourceVersion !== current.metadata?.resourceVersion) return CONFLICT;
        live.metadata = { ...live.metadata, resourceVersion: String(rv++), annotations: { ...live.metadata?.annotations, ...annotations } };
        for (const w of live.webhooks ?? []) w.clientConfig = { ...w.clientConfig, caBundle };
        return 'ok';
      },
    }),
    bundles: () => (cluster.webhook?.webhooks ?? []).map((w) => w.clientConfig?.caBundle ?? ''),
  };
  return cluster;
}
