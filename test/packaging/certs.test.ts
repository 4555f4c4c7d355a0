// Self-managed certificates on an in-memory API: one writer, shared Secret, renewal, and CA rotation with
// an overlapping bundle, checking after every step that each replica's certificate is trusted by the caBundle.
import { X509Certificate } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { selfManagedTlsSource } from '../../src/certs/index.js';
import type { SelfManagedTls } from '../../src/certs/index.js';
import { ANNOTATION } from '../../src/certs/state.js';
import { parseDuration, parseRenewBefore, renewWindowMs } from '../../src/certs/duration.js';
import { splitPem } from '../../src/certs/pem.js';
import { fakeCluster } from './fake-store.js';
import type { FakeCluster } from './fake-store.js';

const logger = pino({ level: 'silent' });
const HOUR = 3_600_000;
const open: SelfManagedTls[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

async function replica(cluster: FakeCluster, clock: { t: number }, extra: Partial<Parameters<typeof selfManagedTlsSource>[0]> = {}) {
  const tls = await selfManagedTlsSource(
    {
      namespace: 'portcullis',
      secretName: 'portcullis-tls',
      webhookConfigName: 'portcullis',
      mutatingWebhookConfigName: 'portcullis',
      serviceName: 'portcullis',
      store: cluster.store(),
      now: () => clock.t,
      pollIntervalMs: 24 * HOUR, // ticks are driven by the test
      overlapMs: 60_000,
      ...extra,
    },
    logger,
  );
  open.push(tls);
  return tls;
}

// True when the API server, trusting the webhook configuration's caBundle, accepts this serving certificate.
function trusted(cluster: FakeCluster, certPem: string): boolean {
  const bundles = cluster.bundles();
  expect(new Set(bundles).size).toBe(1);
  const cert = new X509Certificate(certPem);
  return splitPem(Buffer.from(bundles[0] ?? '', 'base64').toString('utf8')).some((ca) => cert.checkIssued(new X509Certificate(ca)) && cert.verify(new X509Certificate(ca).publicKey));
}

describe('durations', () => {
  it('parses durations and renewal windows', () => {
    expect(parseDuration('90d', 'x')).toBe(90 * 24 * HOUR);
    expect(parseDuration('1.5h', 'x')).toBe(1.5 * HOUR);
    expect(() => parseDuration('10', 'x')).toThrowError(expect.objectContaining({ code: 'DURATION_INVALID' }));
    expect(renewWindowMs(parseRenewBefore('25%', 'x'), 100)).toBe(25);
    expect(renewWindowMs(parseRenewBefore('2h', 'x'), 100)).toBe(2 * HOUR);
    expect(() => parseRenewBefore('100%', 'x')).toThrowError(expect.objectContaining({ code: 'DURATION_INVALID' }));
  });
});

describe('self-managed TLS (in-memory API)', () => {
  it('two replicas starting together share one CA: one creates the Secret, the other reads it', async () => {
    const cluster = fakeCluster();
    const clock = { t: Date.now() };
    const [a, b] = await Promise.all([replica(cluster, clock), replica(cluster, clock)]);
    expect(a.current().cert).toBe(b.current().cert);
    expect(a.caPem).toBe(b.caPem);
    expect(splitPem(a.caPem)).toHaveLength(1);
    expect(trusted(cluster, a.current().cert)).toBe(true);
    expect(cluster.secret?.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'ValidatingWebhookConfiguration', name: 'portcullis', uid: cluster.webhook?.metadata?.uid }),
    ]);
    const sans = new X509Certificate(a.current().cert).subjectAltName;
    expect(sans).toContain('DNS:portcullis.portcullis.svc');
  });

  it('rotates the CA in three steps with an overlapping bundle, every replica trusted at every step', async () => {
    const cluster = fakeCluster();
    const clock = { t: Date.now() };
    const replicas = [await replica(cluster, clock), await replica(cluster, clock), await replica(cluster, clock)];
    const oldCa = replicas[0]!.state().ca.certPem;
    const changes: string[] = [];
    replicas[1]!.onChange((m) => changes.push(m.cert));
    cluster.secret!.metadata!.annotations = { ...cluster.secret!.metadata!.annotations, [ANNOTATION.rotateCa]: 'now' };
    const phases: string[] = [];
    const bundleSizes: number[] = [];
    // replicas tick in turn; time moves 20 s per round: the overlap (60 s) spans several rounds
    for (let round = 0; round < 20; round++) {
      for (const r of replicas) {
        await r.tick();
        // every replica that has ticked serves a certificate the current caBundle trusts
        for (const other of replicas) expect(trusted(cluster, other.current().cert)).toBe(true);
      }
      phases.push(replicas[0]!.state().phase);
      bundleSizes.push(splitPem(Buffer.from(cluster.bundles()[0]!, 'base64').toString()).length);
      clock.t += 20_000;
    }
    expect(phases).toContain('ca-staged');
    expect(phases).toContain('ca-switched');
    expect(phases.at(-1)).toBe('stable');
    expect(Math.max(...bundleSizes)).toBe(2);
    const finalBundle = splitPem(Buffer.from(cluster.bundles()[0]!, 'base64').toString());
    expect(finalBundle).toHaveLength(1);
    expect(finalBundle[0]).not.toBe(oldCa);
    for (const r of replicas) expect(new X509Certificate(r.current().cert).checkIssued(new X509Certificate(finalBundle[0]!))).toBe(true);
    expect(changes).toHaveLength(1);
    expect(cluster.secret?.metadata?.annotations?.[ANNOTATION.rotatedFor]).toBe('now');
  });

  it('renews the serving certificate before expiry without touching the CA or the bundle', async () => {
    const cluster = fakeCluster();
    const clock = { t: Date.now() };
    const r = await replica(cluster, clock, { servingValidityMs: 3 * HOUR, renewBefore: parseRenewBefore('33%', 'x') });
    const first = r.current().cert;
    const bundle = cluster.bundles()[0];
    clock.t += 1.5 * HOUR;
    await r.tick();
    expect(r.current().cert).toBe(first);
    clock.t += 0.6 * HOUR; // 2.1 h of 3 h: less than a third left
    await r.tick();
    expect(r.current().cert).not.toBe(first);
    expect(cluster.bundles()[0]).toBe(bundle);
    expect(trusted(cluster, r.current().cert)).toBe(true);
  });

  it('rotates the CA on its own when it nears expiry', async () => {
    const cluster = fakeCluster();
    const clock = { t: Date.now() };
    const r = await replica(cluster, clock, { caValidityMs: 30 * HOUR, servingValidityMs: 3 * HOUR });
    const firstCa = r.state().ca.certPem;
    clock.t += 21 * HOUR; // 9 h of 30 h left
    for (let i = 0; i < 6; i++) {
      await r.tick();
      expect(trusted(cluster, r.current().cert)).toBe(true);
      clock.t += 61_000;
    }
    expect(r.state().phase).toBe('stable');
    expect(r.state().ca.certPem).not.toBe(firstCa);
  });

  it('re-creates a deleted Secret from memory (same CA), and restores a caBundle someone removed', async () => {
    const cluster = fakeCluster();
    const clock = { t: Date.now() };
    const r = await replica(cluster, clock);
    const ca = r.state().ca.certPem;
    cluster.secret = undefined;
    for (const w of cluster.webhook!.webhooks!) w.clientConfig = {};
    await r.tick();
    expect(r.state().ca.certPem).toBe(ca);
    expect(trusted(cluster, r.current().cert)).toBe(true);
  });

  it('serves with the validating configuration alone when the pinning webhook is not installed', async () => {
    const cluster = fakeCluster(undefined, null); // no MutatingWebhookConfiguration
    const clock = { t: Date.UTC(2026, 0, 1) };
    const tls = await replica(cluster, clock);
    expect(cluster.mutating).toBeUndefined();
    expect(trusted(cluster, tls.current().cert)).toBe(true);
  });

  it('does not create the Secret until the webhook configuration exists (it owns the Secret)', async () => {
    const cluster = fakeCluster();
    const webhook = cluster.webhook;
    cluster.webhook = undefined;
    const clock = { t: Date.now() };
    const pending = replica(cluster, clock, { pollIntervalMs: 50 });
    await new Promise((r) => setTimeout(r, 200));
    expect(cluster.secret).toBeUndefined();
    cluster.webhook = webhook;
    const r = await pending;
    expect(trusted(cluster, r.current().cert)).toBe(true);
  });
});
