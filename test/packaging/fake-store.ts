// An in-memory CertStore with the API server's optimistic concurrency (resourceVersion, 409 on a stale write).
import { randomUUID } from 'node:crypto';
import { CONFLICT } from '../../src/certs/store.js';
import type { CertStore, WebhookConfigLike, WebhookKind } from '../../src/certs/store.js';
import type { SecretLike } from '../../src/certs/state.js';

export interface FakeCluster {
  secret: SecretLike | undefined;
  webhook: WebhookConfigLike | undefined;
  /** the MutatingWebhookConfiguration of digest pinning, when installed */
  mutating: WebhookConfigLike | undefined;
  /** a store as one replica sees it */
  store(): CertStore;
  /** base64 caBundle of every webhook, validating then mutating */
  bundles(): string[];
}

let rv = 1;
const clone = <T>(v: T): T => structuredClone(v);

const configOf = (names: readonly string[]): WebhookConfigLike => ({
  metadata: { name: 'portcullis', uid: randomUUID(), resourceVersion: String(rv++) },
  webhooks: names.map((name) => ({ name, clientConfig: {} })),
});

export function fakeCluster(webhookNames = ['enforce.portcullis.dev', 'audit.portcullis.dev'], mutatingNames: readonly string[] | null = ['pin.portcullis.dev', 'pin-audit.portcullis.dev']): FakeCluster {
  const of = (kind: WebhookKind = 'validating') => (kind === 'validating' ? cluster.webhook : cluster.mutating);
  const cluster: FakeCluster = {
    secret: undefined,
    webhook: configOf(webhookNames),
    mutating: mutatingNames ? configOf(mutatingNames) : undefined,
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
      getWebhookConfig: async (kind) => clone(of(kind)),
      patchWebhookBundle: async (current, caBundle, annotations, kind) => {
        const live = of(kind);
        if (!live || live.metadata?.resourceVersion !== current.metadata?.resourceVersion) return CONFLICT;
        live.metadata = { ...live.metadata, resourceVersion: String(rv++), annotations: { ...live.metadata?.annotations, ...annotations } };
        for (const w of live.webhooks ?? []) w.clientConfig = { ...w.clientConfig, caBundle };
        return 'ok';
      },
    }),
    bundles: () => [...(cluster.webhook?.webhooks ?? []), ...(cluster.mutating?.webhooks ?? [])].map((w) => w.clientConfig?.caBundle ?? ''),
  };
  return cluster;
}
