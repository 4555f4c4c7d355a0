// Points the ValidatingWebhookConfiguration at a local portcullis and waits until the API server uses it.
import { expect } from 'vitest';
import type { ClusterClient } from './cluster.js';
import type { Portcullis } from './portcullis.js';
import { waitFor } from './proc.js';
import { webhookConfigurationFor } from './webhook-config.js';

// Registers `portcullis` (failurePolicy Fail) and waits until a dry-run of `deniedProbe` is refused by it.
export async function registerPortcullis(cluster: ClusterClient, portcullis: Portcullis, deniedProbe: unknown): Promise<void> {
  const registration = await cluster.kubectl(['apply', '-f', '-'], {
    input: webhookConfigurationFor({ url: portcullis.url, caPem: portcullis.caPem, failurePolicy: 'Fail' }),
  });
  expect(registration.code, registration.stderr).toBe(0);
  await waitFor(
    'webhook in effect',
    async () => {
      const probe = await cluster.kubectl(['apply', '-f', '-', '--dry-run=server'], { input: JSON.stringify(deniedProbe) });
      return probe.code !== 0 && probe.stderr.includes('enforce.portcullis.dev') ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
}

// Registers the pinning webhook (deploy/mutating-webhook.yaml, failurePolicy Fail) and waits until a server-side dry
// run of `pod` comes back with portcullis's "would be pinned" warning.
export async function registerPinning(cluster: ClusterClient, portcullis: Portcullis, pod: unknown): Promise<void> {
  const registration = await cluster.kubectl(['apply', '-f', '-'], {
    input: webhookConfigurationFor({ url: portcullis.url, caPem: portcullis.caPem, failurePolicy: 'Fail' }, 'mutating-webhook.yaml'),
  });
  expect(registration.code, registration.stderr).toBe(0);
  await waitFor(
    'pinning webhook in effect',
    async () => {
      const probe = await cluster.kubectl(['create', '-f', '-', '--dry-run=server', '-o', 'name'], { input: JSON.stringify(pod) });
      return probe.stderr.includes('would be pinned to') ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
}

// Removes the registrations and the namespace, and stops what the suite started.
export async function unregisterPortcullis(cluster: ClusterClient, namespace: string, ...stops: Array<{ stop(): Promise<void> } | undefined>): Promise<void> {
  await cluster.kubectl(['delete', 'validatingwebhookconfiguration', 'portcullis', '--ignore-not-found']);
  await cluster.kubectl(['delete', 'mutatingwebhookconfiguration', 'portcullis', '--ignore-not-found']);
  await cluster.kubectl(['delete', 'namespace', namespace, '--wait=false']);
  for (const s of stops) await s?.stop();
}
