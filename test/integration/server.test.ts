// HTTPS integration: the built `portcullis serve` as a child process, reached over real TLS connections.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import type { ConnectionOptions, PeerCertificate } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCa, issueServingCert } from '../../src/server/certs.js';
import { KINDS, compliantSpec, objectOf, reviewOf, specWith } from '../helpers/pods.js';
import type { Json } from '../helpers/pods.js';
import { http2Request, https1, runCli, startPortcullis } from '../helpers/server.js';
import { waitFor } from '../e2e/proc.js';
import type { Portcullis } from '../helpers/server.js';

const POD = KINDS[0]!;
const DEPLOYMENT = KINDS.find((k) => k.kind === 'Deployment')!;
// images pinned to a digest, as the mutating webhook leaves them (a tag-only Pod gets a [pinning] warning)
const PINNED = `@sha256:${'ab'.repeat(32)}`;
const rootPod = (): Json => objectOf(POD, specWith((s) => void ((s.securityContext.runAsUser = 0), (s.containers[0].image += PINNED))), 'root-pod');
const goodPod = (): Json => objectOf(POD, specWith((s) => void (s.containers[0].image += PINNED)), 'good-pod');

// Opens a TLS connection and reports the handshake outcome.
function handshake(port: number, opts: ConnectionOptions): Promise<{ protocol: string | null; cert: PeerCertificate; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ...opts }, () => {
      const result = { protocol: socket.getProtocol(), cert: socket.getPeerCertificate(), authorized: socket.authorized };
      socket.end();
      resolve(result);
    });
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('handshake timed out')));
  });
}

async function review(srv: Portcullis, body: Json, path = '/validate'): Promise<Json> {
  const res = await https1(`${srv.url}${path}`, { ca: srv.caPem!, body: JSON.stringify(body) });
  expect(res.status, res.text).toBe(200);
  return res.json<Json>().response as Json;
}

describe('portcullis serve with a generated certificate', () => {
  let srv: Portcullis;
  beforeAll(async () => {
    srv = await startPortcullis();
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('presents a certificate that chains to <cert-dir>/ca.crt with SAN 127.0.0.1', async () => {
    expect(srv.caPem).toContain('BEGIN CERTIFICATE');
    const { cert, authorized } = await handshake(srv.port, { ca: srv.caPem, servername: undefined });
    expect(authorized).toBe(true);
    expect(cert.subjectaltname).toContain('IP Address:127.0.0.1');
    const ca = new X509Certificate(srv.caPem!);
    expect(new X509Certificate(cert.raw).checkIssued(ca)).toBe(true);
    expect(new X509Certificate(cert.raw).verify(ca.publicKey)).toBe(true);
    // a client that trusts nothing else refuses it
    await expect(handshake(srv.port, {})).rejects.toThrow();
  });

  it('refuses TLS 1.1 and accepts TLS 1.2 and 1.3', async () => {
    // SECLEVEL=0 lets this client offer TLS 1.1, so the refusal comes from the server
    await expect(handshake(srv.port, { ca: srv.caPem, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })).rejects.toMatchObject({
      code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
    });
    expect((await handshake(srv.port, { ca: srv.caPem, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' })).protocol).toBe('TLSv1.2');
    expect((await handshake(srv.port, { ca: srv.caPem, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' })).protocol).toBe('TLSv1.3');
  });

  it('serves HTTP/2 (ALPN h2) and HTTP/1.1', async () => {
    const h2 = await http2Request(srv.url, '/validate', { ca: srv.caPem!, body: JSON.stringify(reviewOf(goodPod(), { uid: 'h2' })) });
    expect(h2.alpn).toBe('h2');
    expect(h2.status).toBe(200);
    expect(h2.json().response).toMatchObject({ uid: 'h2', allowed: true });
    const h1 = await https1(`${srv.url}/validate`, { ca: srv.caPem!, body: JSON.stringify(reviewOf(goodPod(), { uid: 'h1' })) });
    expect(h1.httpVersion).toBe('1.1');
    expect(h1.json().response).toMatchObject({ uid: 'h1', allowed: true });
    const healthz = await https1(`${srv.url}/healthz`, { ca: srv.caPem! });
    expect(healthz.status).toBe(200);
  });

  it('answers with ?timeout=1s, ?timeout=10s and an invalid timeout (default)', async () => {
    for (const timeout of ['1s', '10s', 'soon', '-5s', '']) {
      const res = await https1(`${srv.url}/validate?timeout=${timeout}`, { ca: srv.caPem!, body: JSON.stringify(reviewOf(rootPod(), { uid: `t-${timeout}` })) });
      expect(res.status, timeout).toBe(200);
      expect(res.json().response, timeout).toMatchObject({ uid: `t-${timeout}`, allowed: false, status: { code: 403 } });
      expect(res.json().response.status.message, timeout).toContain('[require-non-root-user]');
    }
  });

  it('POST /validate/audit on an enforce-mode server allows with warnings and audit annotations', async () => {
    const enforced = await review(srv, reviewOf(rootPod(), { uid: 'enforce' }));
    expect(enforced.allowed).toBe(false);
    const audited = await review(srv, reviewOf(rootPod(), { uid: 'audit' }), '/validate/audit');
    expect(audited.allowed).toBe(true);
    expect(audited.warnings.some((w: string) => w.includes('[require-non-root-user]'))).toBe(true);
    expect(audited.auditAnnotations).toMatchObject({ decision: 'would-deny' });
    expect(audited.auditAnnotations['require-non-root-user']).toContain('runAsUser: 0');
  });

  it('logs decisions with findings at info and clean ones only at debug', async () => {
    await review(srv, reviewOf(goodPod(), { uid: 'log-clean' }));
    await review(srv, reviewOf(rootPod(), { uid: 'log-denied' }));
    const denied = await srv.waitForLog((l) => l.msg === 'admission decision' && l.uid === 'log-denied');
    // stdout keeps order: a line for the clean review, written first, would be here by now
    expect(denied).toMatchObject({ level: 30, allowed: false, violations: { 'require-non-root-user': 1 } });
    expect(srv.logs().some((l) => l.uid === 'log-clean')).toBe(false);

    const verbose = await startPortcullis({ args: ['--log-level', 'debug'] });
    try {
      await review(verbose, reviewOf(goodPod(), { uid: 'log-clean-debug' }));
      const clean = await verbose.waitForLog((l) => l.msg === 'admission decision' && l.uid === 'log-clean-debug');
      expect(clean).toMatchObject({ level: 20, allowed: true, violations: {} });
    } finally {
      await verbose.stop();
    }
  });

  it('exposes admission and would-deny violation metrics', async () => {
    await review(srv, reviewOf(rootPod(), { uid: 'metrics' }), '/validate/audit');
    const metrics = await https1(`${srv.url}/metrics`, { ca: srv.caPem! });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/^portcullis_admission_requests_total\{[^}]*kind="Pod"[^}]*\} \d+/m);
    expect(metrics.text).toMatch(/^portcullis_policy_violations_total\{[^}]*policy="require-non-root-user"[^}]*would_deny="true"[^}]*\} [1-9]/m);
  });

  it('gives dryRun requests the same decision, except the [pinning] warning (a dry run is never pinned)', async () => {
    for (const object of [rootPod(), goodPod()]) {
      const wet = await review(srv, reviewOf(object, { uid: 'wet', dryRun: false }));
      const dry = await review(srv, reviewOf(object, { uid: 'wet', dryRun: true }));
      expect(dry).toEqual(wet);
    }
    const tagOnly = objectOf(POD, compliantSpec(), 'tag-only');
    const wet = await review(srv, reviewOf(tagOnly, { uid: 'wet', dryRun: false }));
    const dry = await review(srv, reviewOf(tagOnly, { uid: 'wet', dryRun: true }));
    expect(wet.warnings).toEqual([expect.stringMatching(/^\[pinning\] container "app" \(containers\[0\]\): image "registry.example.com\/team\/app:1.4.2" is not pinned/)]);
    expect(dry).toEqual({ uid: 'wet', allowed: true });
  });

  it('allows relabelling a non-compliant Deployment with an "existing violation" warning, and checks a changed template', async () => {
    const bad = objectOf(DEPLOYMENT, specWith((s) => void (s.containers[0].image = 'nginx:latest')), 'web');
    expect((await review(srv, reviewOf(bad, { uid: 'create' }))).allowed).toBe(false);
    const relabelled = structuredClone(bad);
    relabelled.metadata.labels = { team: 'blue' };
    const update = await review(srv, reviewOf(relabelled, { uid: 'relabel', operation: 'UPDATE', oldObject: bad }));
    expect(update.allowed).toBe(true);
    expect(update.warnings.some((w: string) => w.includes('existing violation') && w.includes('[disallow-latest-tag]'))).toBe(true);
    const newImage = structuredClone(bad);
    newImage.spec.template.spec.containers[0].image = 'nginx';
    const changed = await review(srv, reviewOf(newImage, { uid: 'image', operation: 'UPDATE', oldObject: bad }));
    expect(changed.allowed).toBe(false);
    expect(changed.status.message).toContain('[disallow-latest-tag]');
  });
});

describe('portcullis serve with --tls-cert/--tls-key', () => {
  let srv: Portcullis | undefined;
  let dir: string;
  afterAll(async () => {
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('presents a rotated certificate to new connections without a restart', async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-certs-'));
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    const caA = generateCa('ca-a');
    const pairA = issueServingCert(caA, ['127.0.0.1']);
    writeFileSync(certFile, pairA.certPem);
    writeFileSync(keyFile, pairA.keyPem);
    srv = await startPortcullis({ args: ['--tls-cert', certFile, '--tls-key', keyFile] });
    expect((await handshake(srv.port, { ca: caA.certPem })).authorized).toBe(true);
    const caB = generateCa('ca-b');
    const pairB = issueServingCert(caB, ['127.0.0.1']);
    writeFileSync(keyFile, pairB.keyPem);
    writeFileSync(certFile, pairB.certPem);
    const rotated = await waitFor(
      'the certificate from CA b',
      async () => {
        const { cert } = await handshake(srv!.port, { ca: caB.certPem });
        return cert;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(rotated.issuer.CN).toBe('ca-b');
    await expect(handshake(srv.port, { ca: caA.certPem })).rejects.toThrow();
    const res = await https1(`${srv.url}/validate`, { ca: caB.certPem, body: JSON.stringify(reviewOf(goodPod(), { uid: 'rotated' })) });
    expect(res.json().response).toMatchObject({ uid: 'rotated', allowed: true });
    expect(srv.proc.exitCode).toBeNull();
  });
});

const ENFORCE = `apiVersion: portcullis.dev/v1alpha1
kind: PortcullisConfig
mode: enforce
`;

describe('portcullis serve config handling', () => {
  it('exits non-zero on a bad config file and names each error path and reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-badcfg-'));
    const config = join(dir, 'bad.yaml');
    writeFileSync(
      config,
      `apiVersion: portcullis.dev/v1alpha1
kind: PortcullisConfig
mode: sometimes
bogus: 1
policies:
  require-non-root-user: { action: maybe }
`,
    );
    const result = await runCli(['serve', '--host', '127.0.0.1', '--port', '0', '--cert-dir', join(dir, 'certs'), '--config', config]);
    rmSync(dir, { recursive: true, force: true });
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toMatch(/\/mode: expected one of \["enforce","audit"\]/);
    expect(result.stderr).toMatch(/\/: unknown key "bogus"/);
    expect(result.stderr).toMatch(/\/policies\/require-non-root-user\/action: expected one of/);
  });

  describe('reload', () => {
    let srv: Portcullis;
    beforeAll(async () => {
      srv = await startPortcullis({ config: ENFORCE });
    });
    afterAll(async () => {
      await srv?.stop();
    });

    it('keeps the last good config on a bad file, and applies a good change (mode: audit)', async () => {
      expect((await review(srv, reviewOf(rootPod(), { uid: 'before' }))).allowed).toBe(false);
      let from = srv.logs().length;
      writeFileSync(srv.configPath!, 'mode: [this is not\n  : valid');
      await srv.waitForLog((l) => l.msg === 'config reload failed; keeping the last good config', { from });
      expect((await review(srv, reviewOf(rootPod(), { uid: 'garbage' }))).allowed).toBe(false);
      const ready = await https1(`${srv.url}/readyz`, { ca: srv.caPem! });
      expect(ready.status).toBe(200);

      from = srv.logs().length;
      writeFileSync(srv.configPath!, ENFORCE.replace('mode: enforce', 'mode: audit'));
      await srv.waitForLog((l) => l.msg === 'config reloaded', { from });
      const audited = await review(srv, reviewOf(rootPod(), { uid: 'audit-mode' }));
      expect(audited.allowed).toBe(true);
      expect(audited.warnings.some((w: string) => w.includes('[require-non-root-user]'))).toBe(true);
      expect(audited.auditAnnotations).toMatchObject({ decision: 'would-deny' });
      expect(audited.auditAnnotations['require-non-root-user']).toBeTruthy();
    });
  });
});

describe('portcullis serve shutdown', () => {
  it('on SIGTERM answers /readyz 503, completes the in-flight review and exits 0', async () => {
    const srv = await startPortcullis({ args: ['--shutdown-delay', '2', '--shutdown-grace', '10'] });
    try {
      const body = JSON.stringify(reviewOf(rootPod(), { uid: 'in-flight' }));
      const half = Math.floor(body.length / 2);
      let finish = (): void => undefined;
      // an HTTP/1.1 request whose body arrives in two parts, the second after SIGTERM
      const inFlight = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpsRequest(
          `${srv.url}/validate`,
          { method: 'POST', agent: false, ca: srv.caPem!, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          },
        );
        req.on('error', reject);
        req.write(body.slice(0, half));
        req.flushHeaders();
        finish = () => req.end(body.slice(half));
      });
      // wait until the server has the request's connection open
      await new Promise((r) => setTimeout(r, 300));
      const from = srv.logs().length;
      srv.proc.kill('SIGTERM');
      await srv.waitForLog((l) => String(l.msg).startsWith('shutting down'), { from });
      const ready = await https1(`${srv.url}/readyz`, { ca: srv.caPem! });
      expect(ready.status).toBe(503);
      // let the shutdown delay pass so the server is closing while the body is still incomplete
      await new Promise((r) => setTimeout(r, 2500));
      finish();
      const answer = await inFlight;
      expect(answer.status, answer.text).toBe(200);
      expect(JSON.parse(answer.text).response).toMatchObject({ uid: 'in-flight', allowed: false });
      const exit = await Promise.race([srv.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
      expect(exit).toEqual({ code: 0, signal: null });
      // it stopped by draining, not by the grace-period timer
      const messages = srv.logs().map((l) => String(l.msg));
      expect(messages).toContain('stopped');
      expect(messages.filter((m) => m.startsWith('grace period over'))).toEqual([]);
    } finally {
      await srv.stop();
    }
  });
});
