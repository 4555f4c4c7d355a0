// Loads deploy/webhook.yaml (or deploy/mutating-webhook.yaml) and points it at a portcullis listening on 127.0.0.1.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from './portcullis.js';

export type FailurePolicy = 'Fail' | 'Ignore';

interface Webhook {
  name: string;
  clientConfig: { service?: { path?: string }; url?: string; caBundle?: string };
  failurePolicy?: FailurePolicy;
  [key: string]: unknown;
}

interface WebhookConfiguration {
  metadata: { name: string };
  webhooks: Webhook[];
  [key: string]: unknown;
}

/** The shipped webhook configurations: the validating one, and the mutating one of digest pinning. */
export type ShippedConfiguration = 'webhook.yaml' | 'mutating-webhook.yaml';

// A shipped webhook configuration, parsed.
export function loadWebhookConfiguration(file: ShippedConfiguration = 'webhook.yaml'): WebhookConfiguration {
  return parse(readFileSync(join(REPO_ROOT, 'deploy', file), 'utf8')) as WebhookConfiguration;
}

export interface Target {
  /** https://127.0.0.1:<port> */
  url: string;
  caPem: string;
  failurePolicy?: FailurePolicy;
}

// A shipped configuration with each webhook's service replaced by url <target>/<its service path> and the caBundle set.
export function webhookConfigurationFor(target: Target, file: ShippedConfiguration = 'webhook.yaml'): string {
  const config = loadWebhookConfiguration(file);
  for (const wh of config.webhooks) {
    const path = wh.clientConfig.service?.path ?? '/validate';
    wh.clientConfig = { url: `${target.url}${path}`, caBundle: Buffer.from(target.caPem).toString('base64') };
    if (target.failurePolicy) wh.failurePolicy = target.failurePolicy;
  }
  return stringify(config);
}
