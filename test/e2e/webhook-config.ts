// Loads deploy/webhook.yaml and points it at a portcullis listening on 127.0.0.1.
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

// The shipped ValidatingWebhookConfiguration, parsed.
export function loadWebhookConfiguration(): WebhookConfiguration {
  return parse(readFileSync(join(REPO_ROOT, 'deploy', 'webhook.yaml'), 'utf8')) as WebhookConfiguration;
}

export interface Target {
  /** https://127.0.0.1:<port> */
  url: string;
  caPem: string;
  failurePolicy?: FailurePolicy;
}

// deploy/webhook.yaml with each webhook's service replaced by url <target>/<its service path> and the caBundle set.
export function webhookConfigurationFor(target: Target): string {
  const config = loadWebhookConfiguration();
  for (const wh of config.webhooks) {
    const path = wh.clientConfig.service?.path ?? '/validate';
    wh.clientConfig = { url: `${target.url}${path}`, caBundle: Buffer.from(target.caPem).toString('base64') };
    if (target.failurePolicy) wh.failurePolicy = target.failurePolicy;
  }
  return stringify(config);
}
