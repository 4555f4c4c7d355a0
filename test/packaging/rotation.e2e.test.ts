// Self-managed certificates against the real API server: two portcullis processes share one Secret, and a forced
// CA rotation plus serving-certificate renewals happen while AdmissionReviews flow to both, each request trusting
// the caBundle read from the webhook configuration at that moment. Not one admission may fail.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { clusterClient } from '../e2e/cluster.js';
import type { ClusterClient } from '../e2e/cluster.js';
import { waitFor } from '../e2e/proc.js';
import { admissionReview, countCerts, httpsRequest, issuedByBundle, startServe, webhookBundles } from './kube.js';
import type { Serve } from './kube.js';
import { INSTALL, requireTool } from '../helpers/require-tool.js';

const info = inject('cluster');
const NS = 'pkg-rotation';
const WEBHOOK = 'pkg-rotation';
const SECRET = 'pkg-rotation-tls';

// A webhook configuration the API server never calls (it selects no namespace); only its caBundle matters here.
const WEBHOOK_CONFIG = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingWebhookConfiguration',
  metadata: { name: WEBHOOK },
  webhooks: ['enforce.portcullis.dev', 'audit.portcullis.dev'].map((name) => ({
    name,
    clientConfig: { url: `https://127.0.0.1:1/${name}` },
    namespaceSelector: { matchLabels: { 'pkg-rotation.portcullis.dev/never': 'true' } },
    rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    failurePolicy: 'Ignore',
    timeoutSeconds: 5,
  })),
};

describe.runIf(requireTool('the e2e control plane', info !== undefined, INSTALL.cluster))('self-managed certificates on the e2e control plane', () => {
  let client: ClusterClient;
  let dir: string;
  const servers: Serve[] = [];

  beforeAll(async () => {
    client = clusterClient(info);
    dir = mkdtempSync(join(tmpdir(), 'portcullis-rotation-'));
    await client.kubectl(['delete', 'validatingwebhookconfiguration', WEBHOOK, '--ignore-not-found']);
    expect((await client.kubectl(['create', 'namespace', NS])).code).toBe(0);
    expect((await client.kubectl(['apply', '-f', '-'], { input: stringify(WEBHOOK_CONFIG) })).code).toBe(0);
    const config = join(dir, 'config.yaml');
    writeFileSync(config, 'apiVersion: portcullis.dev/v1alpha1\nkind: PortcullisConfig\nregistry: { enabled: false }\n');
    const flags = [
      '--config', config,
      '--cert-mode', 'self',
      '--kubeconfig', info.kubeconfig,
      '--namespace', NS,
      '--cert-secret', SECRET,
      '--webhook-config', WEBHOOK,
      '--service-name', 'portcullis',
      '--tls-san', '127.0.0.1',
      // renew the serving certificate every few seconds; each CA rotation step lasts 1.5 s; re-read every 200 ms
      '--cert-validity', '12s',
      '--cert-renew-before', '50%',
      '--cert-rotation-overlap', '1500ms',
      '--cert-poll-interval', '200ms',
    ];
    // both start at once: one creates the Secret, the other gets a 409 or reads it
    servers.push(...(await Promise.all([startServe(dir, 'replica-a', flags), startServe(dir, 'replica-b', flags)])));
  });

  afterAll(async () => {
    for (const s of servers) await s.stop();
    if (client) {
      await client.kubectl(['delete', 'validatingwebhookconfiguration', WEBHOOK, '--ignore-not-found']);
      await client.kubectl(['delete', 'namespace', NS, '--ignore-not-found', '--wait=false']);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('two replicas share one Secret (created once, owned by the webhook configuration) and the caBundle is patched', async () => {
    const secret = JSON.parse((await client.kubectl(['get', 'secret', SECRET, '-n', NS, '-o', 'json'])).stdout) as {
      type: string;
      metadata: { ownerReferences: Array<{ kind: string; name: string }> };
      data: Record<string, string>;
    };
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(secret.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'ValidatingWebhookConfiguration', name: WEBHOOK })]);
    const bundles = await waitFor('caBundle patched', async () => {
      const b = await webhookBundles(info, WEBHOOK);
      return b.every((x) => countCerts(x) === 1) ? b : undefined;
    });
    expect(new Set(bundles).size).toBe(1);
    const created = servers.map((s) => s.log().split('\n').filter((l) => l.includes('created a CA and serving certificate')).length);
    expect(created.reduce((a, b) => a + b)).toBe(1);
    for (const s of servers) {
      const res = await httpsRequest(`${s.url}/readyz`, { ca: bundles[0]! });
      expect(res.status).toBe(200);
    }
  });

  it('rotates the CA and renews serving certificates while admissions flow: zero failures, the bundle ends with the new CA', async () => {
    const initialBundle = (await webhookBundles(info, WEBHOOK))[0]!;
    const stats = { ok: 0, failed: [] as string[], maxBundle: 0, servedFingerprints: new Set<string>() };
    let running = true;
    let seq = 0;
    const load = async (server: Serve) => {
      while (running) {
        const uid = `rot-${seq++}`;
        try {
          // what the API server does: trust the caBundle the webhook configuration carries right now
          const bundle = (await webhookBundles(info, WEBHOOK))[0]!;
          stats.maxBundle = Math.max(stats.maxBundle, countCerts(bundle));
          const res = await httpsRequest(`${server.url}/validate?timeout=10s`, { ca: bundle }, { method: 'POST', body: admissionReview(uid) });
          const review = JSON.parse(res.body) as { response?: { uid?: string } };
          if (res.status !== 200 || review.response?.uid !== uid) throw new Error(`status ${res.status}: ${res.body.slice(0, 200)}`);
          if (res.peer) stats.servedFingerprints.add(res.peer.fingerprint256);
          stats.ok++;
        } catch (err) {
          stats.failed.push(`${server.port} ${uid}: ${(err as Error).message}`);
        }
      }
    };
    const loops = servers.flatMap((s) => [load(s), load(s)]);
    try {
      // let some admissions through first, then ask for a CA rotation the way an operator would
      await waitFor('admissions flowing', async () => (stats.ok > 20 ? true : undefined));
      const annotate = await client.kubectl(['annotate', 'secret', SECRET, '-n', NS, 'portcullis.dev/rotate-ca=e2e-1', '--overwrite']);
      expect(annotate.code, annotate.stderr).toBe(0);
      const finalBundle = await waitFor(
        'the rotation to finish (bundle back to one CA, a new one)',
        async () => {
          const b = (await webhookBundles(info, WEBHOOK))[0]!;
          return countCerts(b) === 1 && b !== initialBundle ? b : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 200 },
      );
      // both replicas serve certificates from the new CA
      await waitFor('both replicas on the new CA', async () => {
        for (const s of servers) {
          const res = await httpsRequest(`${s.url}/healthz`, { ca: finalBundle }).catch(() => undefined);
          if (!res?.peer || !issuedByBundle(res.peer, finalBundle)) return undefined;
        }
        return true;
      });
      // and keep admitting through at least one more serving-certificate renewal
      const seen = stats.servedFingerprints.size;
      await waitFor('a serving-certificate renewal after the rotation', async () => (stats.servedFingerprints.size > seen ? true : undefined), { timeoutMs: 30_000 });
      expect(issuedByBundle((await httpsRequest(`${servers[0]!.url}/healthz`, { ca: finalBundle })).peer!, initialBundle)).toBe(false);
    } finally {
      running = false;
      await Promise.all(loops);
    }
    expect(stats.failed).toEqual([]);
    expect(stats.ok).toBeGreaterThan(100);
    // the overlap really happened: old and new CA were in the bundle together
    expect(stats.maxBundle).toBe(2);
    // initial pair, the rotation's pair, and renewals
    expect(stats.servedFingerprints.size).toBeGreaterThanOrEqual(3);
    const secret = JSON.parse((await client.kubectl(['get', 'secret', SECRET, '-n', NS, '-o', 'json'])).stdout) as { metadata: { annotations: Record<string, string> } };
    expect(secret.metadata.annotations['portcullis.dev/rotated-ca-for']).toBe('e2e-1');
    expect(secret.metadata.annotations['portcullis.dev/cert-phase']).toBe('stable');
  });
});
