// Where the shared certificate state lives: the Secret, and the webhook configuration whose caBundle it feeds.
import type { SecretLike } from './state.js';

export interface WebhookConfigLike {
  metadata?: { name?: string; uid?: string; resourceVersion?: string; annotations?: Record<string, string> };
  webhooks?: Array<{ name: string; clientConfig?: { caBundle?: string } }>;
}

/** Which webhook configuration: the ValidatingWebhookConfiguration, or the MutatingWebhookConfiguration (pinning). */
export type WebhookKind = 'validating' | 'mutating';

/** A write that lost an optimistic-concurrency race (HTTP 409): another replica wrote first. */
export const CONFLICT = 'conflict' as const;

export interface CertStore {
  /** the Secret, undefined when absent */
  getSecret(): Promise<SecretLike | undefined>;
  createSecret(secret: SecretLike): Promise<SecretLike | typeof CONFLICT>;
  /** replaces the Secret when its resourceVersion still matches */
  replaceSecret(secret: SecretLike): Promise<SecretLike | typeof CONFLICT>;
  /** the webhook configuration of this kind (default validating), undefined when absent */
  getWebhookConfig(kind?: WebhookKind): Promise<WebhookConfigLike | undefined>;
  /** sets caBundle on every webhook of `current` and these annotations, when its resourceVersion still matches */
  patchWebhookBundle(current: WebhookConfigLike, caBundleB64: string, annotations: Record<string, string>, kind?: WebhookKind): Promise<'ok' | typeof CONFLICT>;
}
