// Self-managed TLS: every replica shares one CA and serving certificate through a Secret, keeps the webhook
// configuration's caBundle in step, renews before expiry and rotates the CA with an overlapping bundle.
import type { Logger } from 'pino';
import type { TlsMaterial, TlsSource } from '../server/tls.js';
import { serviceSans } from '../server/certs.js';
import { parseRenewBefore } from './duration.js';
import type { RenewBefore } from './duration.js';
import { initialState, plan } from './plan.js';
import type { CertPolicy } from './plan.js';
import { ANNOTATION, CertStateError, decodeState, encodeState, pendingRotation } from './state.js';
import type { CertState, SecretLike } from './state.js';
import { CONFLICT } from './store.js';
import type { CertStore, WebhookKind } from './store.js';
import { kubeCertStore } from './kube-store.js';
import { loadKubeConfig } from '../kube/client.js';

const DAY_MS = 86_400_000;

export interface SelfManagedOptions {
  /** kubeconfig file; in-cluster credentials when absent */
  readonly kubeconfig?: string;
  readonly namespace: string;
  readonly secretName: string;
  readonly webhookConfigName: string;
  /** the MutatingWebhookConfiguration (pinning) whose caBundle follows the validating one's, when it exists */
  readonly mutatingWebhookConfigName?: string;
  /** the Service the API server calls: its DNS names become the serving certificate's SANs */
  readonly serviceName: string;
  /** more SANs (e.g. 127.0.0.1 for a local run) */
  readonly extraSans?: readonly string[];
  /** default 730 days */
  readonly caValidityMs?: number;
  /** default 90 days */
  readonly servingValidityMs?: number;
  /** default 33%: renew when less than a third of the lifetime remains */
  readonly renewBefore?: RenewBefore;
  /** time between the steps of a CA rotation, default 60 s */
  readonly overlapMs?: number;
  /** how often the Secret and the webhook configuration are read, default 10 s */
  readonly pollIntervalMs?: number;
  /** a different store (tests) */
  readonly store?: CertStore;
  readonly now?: () => number;
}

export interface SelfManagedTls extends TlsSource {
  /** the caBundle (PEM) the webhook configuration should carry */
  readonly caPem: string;
  /** the state last read or written */
  state(): CertState;
  /** one reconcile pass (the poll loop calls it; tests may too) */
  tick(): Promise<void>;
}

export const DEFAULTS = {
  caValidityMs: 730 * DAY_MS,
  servingValidityMs: 90 * DAY_MS,
  renewBefore: parseRenewBefore('33%', 'renew-before'),
  overlapMs: 60_000,
  pollIntervalMs: 10_000,
} as const;

const MANAGED_LABELS = { 'app.kubernetes.io/name': 'portcullis', 'app.kubernetes.io/managed-by': 'portcullis' };

function parseSource(value: string | undefined): { uid: string; generation: number } | undefined {
  const match = /^(.+)\/(\d+)$/.exec(value ?? '');
  return match ? { uid: match[1] as string, generation: Number(match[2]) } : undefined;
}

// The Secret `secret` rewritten to hold `state` (other annotations and metadata kept).
function withState(secret: SecretLike, state: CertState): SecretLike {
  const encoded = encodeState(state);
  return { ...secret, metadata: { ...secret.metadata, annotations: { ...secret.metadata?.annotations, ...encoded.annotations } }, data: encoded.data };
}

// Starts self-managed TLS; resolves once a serving pair is available (retrying while the API is unreachable).
export async function selfManagedTlsSource(options: SelfManagedOptions, logger: Logger): Promise<SelfManagedTls> {
  const log = logger.child({ component: 'certs', secret: `${options.namespace}/${options.secretName}` });
  const store =
    options.store ??
    kubeCertStore(await loadKubeConfig(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}), {
      namespace: options.namespace,
      secretName: options.secretName,
      webhookConfigName: options.webhookConfigName,
      ...(options.mutatingWebhookConfigName ? { mutatingWebhookConfigName: options.mutatingWebhookConfigName } : {}),
    });
  const now = options.now ?? Date.now;
  const policy: CertPolicy = {
    sans: [...new Set([...serviceSans(options.serviceName, options.namespace), ...(options.extraSans ?? [])])],
    caValidityMs: options.caValidityMs ?? DEFAULTS.caValidityMs,
    servingValidityMs: options.servingValidityMs ?? DEFAULTS.servingValidityMs,
    renewBefore: options.renewBefore ?? DEFAULTS.renewBefore,
    overlapMs: options.overlapMs ?? DEFAULTS.overlapMs,
  };
  const pollMs = options.pollIntervalMs ?? DEFAULTS.pollIntervalMs;
  const listeners: Array<(m: TlsMaterial) => void> = [];
  let current: CertState | undefined;
  let material: TlsMaterial | undefined;
  let warnedNoWebhook = false;

  // Serves the state's pair from now on, telling the server when it changed.
  const adopt = (state: CertState): void => {
    current = state;
    if (material && material.cert === state.serving.certPem && material.key === state.serving.keyPem) return;
    const first = material === undefined;
    material = { cert: state.serving.certPem, key: state.serving.keyPem };
    if (!first) {
      log.info({ phase: state.phase, generation: state.generation }, 'serving certificate reloaded from the secret');
      for (const listener of listeners) listener(material);
    }
  };

  // Creates the Secret (owned by the webhook configuration, so deleting that deletes it); a 409 means another replica won.
  const createSecret = async (): Promise<SecretLike | undefined> => {
    const webhook = await store.getWebhookConfig();
    const uid = webhook?.metadata?.uid;
    if (!uid) {
      log.warn({ webhookConfig: options.webhookConfigName }, 'waiting for the webhook configuration before creating the certificate secret');
      return undefined;
    }
    const state = current ?? initialState(policy, now());
    const encoded = encodeState(state);
    const created = await store.createSecret({
      metadata: {
        name: options.secretName,
        namespace: options.namespace,
        labels: MANAGED_LABELS,
        annotations: encoded.annotations,
        ownerReferences: [{ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', name: options.webhookConfigName, uid }],
      },
      type: 'kubernetes.io/tls',
      data: encoded.data,
    });
    if (created === CONFLICT) {
      log.info('another replica created the certificate secret first; using theirs');
      return store.getSecret();
    }
    log.info({ generation: state.generation }, current ? 'certificate secret re-created from memory' : 'created a CA and serving certificate in the secret');
    return created;
  };

  // Puts the state's bundle on a webhook configuration unless it already carries it (or a newer one).
  // Returns the generation that configuration carries for this Secret when known, 'absent' when it does not exist.
  const syncOne = async (state: CertState, secretUid: string, kind: WebhookKind): Promise<number | undefined | 'absent'> => {
    const webhook = await store.getWebhookConfig(kind);
    if (!webhook) return 'absent';
    const source = parseSource(webhook.metadata?.annotations?.[ANNOTATION.bundleSource]);
    const carried = source?.uid === secretUid ? source.generation : undefined;
    if (carried !== undefined && carried > state.generation) return carried;
    const desired = Buffer.from(state.bundle).toString('base64');
    const hooks = webhook.webhooks ?? [];
    const inPlace = hooks.length > 0 && hooks.every((w) => w.clientConfig?.caBundle === desired);
    if (inPlace && carried === state.generation) return carried;
    const result = await store.patchWebhookBundle(webhook, desired, { [ANNOTATION.bundleSource]: `${secretUid}/${state.generation}` }, kind);
    if (result === CONFLICT) return undefined;
    log.info({ webhookConfig: webhook.metadata?.name, kind, generation: state.generation, webhooks: hooks.length }, 'caBundle patched');
    return state.generation;
  };

  // Keeps the validating configuration (and the mutating one, when installed) on the state's bundle. Returns the
  // generation both carry — the older one — so a rotation step waits for the slower of the two.
  const syncWebhook = async (state: CertState, secretUid: string): Promise<number | undefined> => {
    const validating = await syncOne(state, secretUid, 'validating');
    if (validating === 'absent') {
      if (!warnedNoWebhook) log.warn({ webhookConfig: options.webhookConfigName }, 'webhook configuration not found; caBundle not patched');
      warnedNoWebhook = true;
      return undefined;
    }
    warnedNoWebhook = false;
    if (!options.mutatingWebhookConfigName) return validating;
    const mutating = await syncOne(state, secretUid, 'mutating');
    if (mutating === 'absent') return validating;
    return validating === undefined || mutating === undefined ? undefined : Math.min(validating, mutating);
  };

  const tick = async (): Promise<void> => {
    let secret = await store.getSecret();
    if (!secret) secret = await createSecret();
    if (!secret) return;
    const uid = secret.metadata?.uid ?? '';
    let state: CertState;
    try {
      state = decodeState(secret);
    } catch (err) {
      if (!(err instanceof CertStateError)) throw err;
      log.error({ err: err.message }, 'certificate secret unusable; writing a new CA and certificate');
      state = initialState(policy, now());
      const written = await store.replaceSecret(withState(secret, { ...state, generation: Number(secret.metadata?.annotations?.[ANNOTATION.generation] ?? 0) + 1 }));
      if (written === CONFLICT) return;
      secret = written;
      state = decodeState(secret);
    }
    const webhookGeneration = await syncWebhook(state, uid);
    const step = plan({ state, now: now(), webhookGeneration, rotationRequested: pendingRotation(secret, state) }, policy);
    if (step) {
      const written = await store.replaceSecret(withState(secret, step.state));
      if (written === CONFLICT) {
        log.debug({ reason: step.reason }, 'another replica updated the certificate secret first');
      } else {
        log.info({ reason: step.reason, phase: step.state.phase, generation: step.state.generation }, 'certificate secret updated');
        state = step.state;
        if (state.generation !== (webhookGeneration ?? -1)) await syncWebhook(state, uid);
      }
    }
    adopt(state);
  };

  // First pass: keep trying until a serving pair exists.
  for (let attempt = 1; material === undefined; attempt++) {
    try {
      await tick();
    } catch (err) {
      log.warn({ err: (err as Error).message, attempt }, 'certificate secret not ready; retrying');
    }
    if (material === undefined) await new Promise((r) => setTimeout(r, Math.min(pollMs, 1000 * attempt)));
  }

  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const loop = (): void => {
    timer = setTimeout(() => {
      tick().then(
        () => (closed ? undefined : loop()),
        (err: unknown) => {
          log.warn({ err: (err as Error).message }, 'certificate reconcile failed; keeping the current certificate');
          if (!closed) loop();
        },
      );
    }, pollMs);
    timer.unref();
  };
  loop();

  return {
    current: () => material as TlsMaterial,
    onChange: (listener) => void listeners.push(listener),
    close: () => {
      closed = true;
      if (timer) clearTimeout(timer);
    },
    get caPem() {
      return (current as CertState).bundle;
    },
    state: () => current as CertState,
    tick,
  };
}
