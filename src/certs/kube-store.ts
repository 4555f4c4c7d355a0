// CertStore on the Kubernetes API (@kubernetes/client-node): in-cluster credentials or a kubeconfig file.
import { AdmissionregistrationV1Api, ApiException, CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { V1Secret } from '@kubernetes/client-node';
import { PortcullisError } from '../errors.js';
import { CONFLICT } from './store.js';
import { pointerSegment } from '../kube/json-pointer.js';
import type { CertStore, WebhookConfigLike, WebhookKind } from './store.js';
import type { SecretLike } from './state.js';

export interface KubeStoreOptions {
  readonly namespace: string;
  readonly secretName: string;
  readonly webhookConfigName: string;
  /** the MutatingWebhookConfiguration (pinning) whose caBundle is kept in step too, when it exists */
  readonly mutatingWebhookConfigName?: string;
}

function status(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** An API error with its HTTP status and the API's own message (not the whole response). */
export class CertStoreApiError extends PortcullisError<'KUBE_API'> {
  constructor(
    readonly status: number | undefined,
    message: string,
  ) {
    super('KUBE_API', message);
  }
}

function apiError(err: unknown, what: string): Error {
  const code = status(err);
  if (code === undefined) return err instanceof Error ? err : new Error(String(err));
  let detail = '';
  try {
    const body: unknown = (err as ApiException<unknown>).body;
    const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string } | undefined;
    detail = parsed?.message ?? '';
  } catch {
    detail = '';
  }
  return new CertStoreApiError(code, `${what}: expected success, got HTTP ${code}${detail ? ` (${detail})` : ''}`);
}

// Runs an API call: 409 becomes CONFLICT, 404 becomes undefined when `absentOk`, anything else a CertStoreApiError.
async function guarded<T>(what: string, call: () => Promise<T>, absentOk = false): Promise<T | undefined | typeof CONFLICT> {
  try {
    return await call();
  } catch (err) {
    const code = status(err);
    if (code === 409) return CONFLICT;
    if (code === 404 && absentOk) return undefined;
    throw apiError(err, what);
  }
}

export function kubeCertStore(kc: KubeConfig, options: KubeStoreOptions): CertStore {
  const core = kc.makeApiClient(CoreV1Api);
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  const { namespace, secretName: name } = options;
  const secretWhat = `secret ${namespace}/${name}`;
  const names = { validating: options.webhookConfigName, mutating: options.mutatingWebhookConfigName ?? options.webhookConfigName };
  const webhookWhat = (kind: WebhookKind) => `${kind}webhookconfiguration ${names[kind]}`;
  const read = <T>(v: T | undefined | typeof CONFLICT): T | undefined => (v === CONFLICT ? undefined : v);
  const write = <T>(v: T | undefined | typeof CONFLICT, what: string): T | typeof CONFLICT => {
    if (v === undefined) throw new CertStoreApiError(404, `${what}: expected a write, got not found`);
    return v;
  };
  return {
    getSecret: async () => read(await guarded(`get ${secretWhat}`, async () => (await core.readNamespacedSecret({ name, namespace })) as SecretLike, true)),
    createSecret: async (secret) => write(await guarded(`create ${secretWhat}`, async () => (await core.createNamespacedSecret({ namespace, body: secret as V1Secret })) as SecretLike), secretWhat),
    replaceSecret: async (secret) =>
      write(await guarded(`update ${secretWhat}`, async () => (await core.replaceNamespacedSecret({ name, namespace, body: secret as V1Secret })) as SecretLike), secretWhat),
    getWebhookConfig: async (kind = 'validating') =>
      read(
        await guarded(
          `get ${webhookWhat(kind)}`,
          async () =>
            (kind === 'validating'
              ? await admission.readValidatingWebhookConfiguration({ name: names.validating })
              : await admission.readMutatingWebhookConfiguration({ name: names.mutating })) as WebhookConfigLike,
          true,
        ),
      ),
    patchWebhookBundle: async (current, caBundleB64, annotations, kind = 'validating') => {
      // a JSON patch carrying the resourceVersion read (409 when it changed): only the caBundles and our annotations change
      const ops: unknown[] = [{ op: 'replace', path: '/metadata/resourceVersion', value: current.metadata?.resourceVersion ?? '' }];
      if (!current.metadata?.annotations) ops.push({ op: 'add', path: '/metadata/annotations', value: {} });
      const webhookCount = current.webhooks?.length ?? 0;
      for (const [key, value] of Object.entries(annotations)) {
        ops.push({ op: 'add', path: `/metadata/annotations/${pointerSegment(key)}`, value });
      }
      for (let i = 0; i < webhookCount; i++) ops.push({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundleB64 });
      const options = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
      const res = await guarded(`patch ${webhookWhat(kind)}`, async () =>
        kind === 'validating'
          ? admission.patchValidatingWebhookConfiguration({ name: names.validating, body: ops }, options)
          : admission.patchMutatingWebhookConfiguration({ name: names.mutating, body: ops }, options),
      );
      return res === CONFLICT ? CONFLICT : 'ok';
    },
  };
}
