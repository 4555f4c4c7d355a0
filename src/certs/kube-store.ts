// CertStore on the Kubernetes API (@kubernetes/client-node): in-cluster credentials or a kubeconfig file.
import { AdmissionregistrationV1Api, ApiException, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { V1Secret } from '@kubernetes/client-node';
import { CONFLICT } from './store.js';
import type { CertStore, WebhookConfigLike } from './store.js';
import type { SecretLike } from './state.js';

export interface KubeStoreOptions {
  /** kubeconfig file; in-cluster service-account credentials when absent */
  readonly kubeconfig?: string;
  readonly namespace: string;
  readonly secretName: string;
  readonly webhookConfigName: string;
}

function status(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

// Maps 404 to undefined and 409 to CONFLICT; anything else is rethrown.
async function guarded<T>(call: () => Promise<T>, on404: T | 'throw' = 'throw'): Promise<T | typeof CONFLICT> {
  try {
    return await call();
  } catch (err) {
    const code = status(err);
    if (code === 409) return CONFLICT;
    if (code === 404 && on404 !== 'throw') return on404;
    throw err;
  }
}

// Loads the kubeconfig file, or the in-cluster configuration.
export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromCluster();
  return kc;
}

export function kubeCertStore(options: KubeStoreOptions): CertStore {
  const kc = loadKubeConfig(options.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  const { namespace, secretName: name } = options;
  const notConflict = <T>(v: T | typeof CONFLICT): T => {
    if (v === CONFLICT) throw new Error(`expected a read, got a conflict`);
    return v;
  };
  return {
    getSecret: async () =>
      notConflict(await guarded<SecretLike | undefined>(async () => core.readNamespacedSecret({ name, namespace }) as Promise<SecretLike>, undefined)),
    createSecret: async (secret) => guarded(async () => core.createNamespacedSecret({ namespace, body: secret as V1Secret }) as Promise<SecretLike>),
    replaceSecret: async (secret) => guarded(async () => core.replaceNamespacedSecret({ name, namespace, body: secret as V1Secret }) as Promise<SecretLike>),
    getWebhookConfig: async () =>
      notConflict(
        await guarded<WebhookConfigLike | undefined>(
          async () => admission.readValidatingWebhookConfiguration({ name: options.webhookConfigName }) as Promise<WebhookConfigLike>,
          undefined,
        ),
      ),
    patchWebhookBundle: async (current, caBundleB64, annotations) => {
      // a JSON patch carrying the resourceVersion read (409 when it changed): only the caBundles and our annotations change
      const ops: unknown[] = [{ op: 'replace', path: '/metadata/resourceVersion', value: current.metadata?.resourceVersion ?? '' }];
      if (!current.metadata?.annotations) ops.push({ op: 'add', path: '/metadata/annotations', value: {} });
      const webhookCount = current.webhooks?.length ?? 0;
      for (const [key, value] of Object.entries(annotations)) {
        ops.push({ op: 'add', path: `/metadata/annotations/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`, value });
      }
      for (let i = 0; i < webhookCount; i++) ops.push({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundleB64 });
      const res = await guarded(async () =>
        admission.patchValidatingWebhookConfiguration(
          { name: options.webhookConfigName, body: ops },
          setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
        ),
      );
      return res === CONFLICT ? CONFLICT : 'ok';
    },
  };
}
