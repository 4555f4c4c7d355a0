// Keeps the cluster's fail-safe ValidatingAdmissionPolicies in step with the config (`serve --fail-safe`): applies
// what `portcullis vap` renders (server-side apply) on start and on every config change, and deletes the
// portcullis-managed policies and bindings the config no longer has.
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import type { KubeClient } from '../kube/client.js';
import { renderFailSafe } from './vap.js';

const BASE = '/apis/admissionregistration.k8s.io/v1';
const COLLECTIONS: Readonly<Record<string, string>> = {
  ValidatingAdmissionPolicy: 'validatingadmissionpolicies',
  ValidatingAdmissionPolicyBinding: 'validatingadmissionpolicybindings',
};
const SELECTOR = 'app.kubernetes.io/managed-by=portcullis';

export interface SyncResult {
  readonly applied: number;
  readonly deleted: number;
  readonly inexpressible: readonly string[];
}

// Applies the config's fail-safe and removes stale managed objects; bindings go before their policies.
export async function syncFailSafe(client: KubeClient, config: Config): Promise<SyncResult> {
  const { documents, inexpressible } = renderFailSafe(config);
  const wanted = new Set<string>();
  for (const doc of documents) {
    const kind = doc.kind as string;
    const name = (doc.metadata as { name: string }).name;
    wanted.add(`${kind}/${name}`);
    await client.request({
      method: 'PATCH',
      path: `${BASE}/${COLLECTIONS[kind]}/${name}`,
      query: { fieldManager: 'portcullis', force: 'true' },
      body: doc,
      contentType: 'application/apply-patch+yaml',
    });
  }
  let deleted = 0;
  for (const kind of ['ValidatingAdmissionPolicyBinding', 'ValidatingAdmissionPolicy']) {
    const list = await client.request<{ items: Array<{ metadata: { name: string } }> }>({ path: `${BASE}/${COLLECTIONS[kind]}`, query: { labelSelector: SELECTOR } });
    for (const item of list.items) {
      if (wanted.has(`${kind}/${item.metadata.name}`)) continue;
      await client.request({ method: 'DELETE', path: `${BASE}/${COLLECTIONS[kind]}/${item.metadata.name}` });
      deleted++;
    }
  }
  return { applied: documents.length, deleted, inexpressible: inexpressible.map((i) => i.policy) };
}

// Syncs now and after every config change; failures are logged and retried with the next change.
export function keepFailSafeInStep(client: KubeClient, config: { current(): Config; onChange(listener: (c: Config) => void): void }, logger: Logger): Promise<void> {
  const log = logger.child({ component: 'failsafe' });
  let queue = Promise.resolve();
  const sync = (c: Config): Promise<void> =>
    (queue = queue.then(async () => {
      try {
        const r = await syncFailSafe(client, c);
        log.info({ applied: r.applied, deleted: r.deleted, notRendered: r.inexpressible }, 'fail-safe policies in step with the config');
      } catch (err) {
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'fail-safe sync failed; retried on the next config change');
      }
    }));
  config.onChange((c) => void sync(c));
  return sync(config.current());
}
