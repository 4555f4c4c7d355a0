// require-vulnerability-scan everywhere the engine runs, over Debian's distribution registry with attestations made
// by real cosign: the webhook (/validate through the real app), the background scan's PolicyReports (built from the
// same engine's decisions) and `portcullis audit --registry` through the built CLI.

import { INSTALL, requireTool } from '../helpers/require-tool.js';
import { POLICIES } from '../../policies/index.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/cli/runtime.js';
import { buildApp } from '../../src/server/app.js';
import { generatedTlsSource } from '../../src/server/tls.js';
import { buildPolicyReports } from '../../src/audit/reports.js';
import type { Decision } from '../../src/engine/decision.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { RegistryWriter, type PushedImage } from '../helpers/cosign-format.js';
import { Cosign, toolPath, type CosignKeys } from '../helpers/cosign-cli.js';
import { hoursAgo, predicate, predicateFile, without } from '../helpers/attestations.js';
import { KINDS, compliantSpec, objectOf, reviewOf } from '../helpers/pods.js';
import type { Json } from '../helpers/pods.js';

const cosignBin = toolPath('cosign2');
if (!cosignBin && process.env.CI === 'true') throw new Error('attestation integration tests need cosign2: run scripts/go-tools.sh');
const root = fileURLToPath(new URL('../../', import.meta.url));
const POD = KINDS[0]!;
const DEPLOYMENT = KINDS.find((k) => k.kind === 'Deployment')!;

describe.runIf(requireTool('cosign3', Boolean(cosignBin), INSTALL.cosign))('require-vulnerability-scan through the webhook, PolicyReports and audit', () => {
  let registry: TestRegistry;
  let dir: string;
  let configPath: string;
  let runtime: Runtime;
  let app: FastifyInstance;
  let keys: CosignKeys;
  const img: Record<'clean' | 'vulnerable' | 'stale' | 'unscanned', PushedImage> = {} as never;

  const specOf = (images: string[]): Json => {
    const spec = compliantSpec();
    spec.containers = images.map((image, i) => ({ ...spec.containers[0], name: `c${i}`, image }));
    return spec;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-attest-'));
    const cosign = new Cosign(cosignBin as string, 2);
    [registry, keys] = await Promise.all([startRegistry({ auth: 'none', tls: false }), cosign.generateKeyPair()]);
    const w = new RegistryWriter(registry.host);
    for (const name of ['clean', 'vulnerable', 'stale', 'unscanned'] as const) img[name] = await w.image(`team/${name}`, `${name}-${Math.random()}`, 'v1');
    await cosign.attest(img.clean.ref, keys, 'vuln', predicateFile(without(predicate('trivy-cosign-vuln', hoursAgo(2)), 'CRITICAL')));
    await cosign.attest(img.vulnerable.ref, keys, 'vuln', predicateFile(predicate('trivy-cosign-vuln', hoursAgo(3))));
    await cosign.attest(img.stale.ref, keys, 'vuln', predicateFile(without(predicate('trivy-cosign-vuln', hoursAgo(24 * 9)), 'CRITICAL')));
    configPath = join(dir, 'config.yaml');
    writeFileSync(configPath, `apiVersion: portcullis.dev/v1alpha1
kind: PortcullisConfig
registry:
  insecure: ["${registry.host}"]
  timeout: 5s
policies:
  require-vulnerability-scan:
    action: deny
    authorities: { ci: { key: ${JSON.stringify(keys.pubPem)}, ignoreTlog: true } }
    images: [{ pattern: "${registry.host}/team/**", authorities: [ci] }]
    maxAge: 168h
`);
    runtime = await createRuntime({ configPath, logger: pino({ level: 'silent' }), watch: false });
    const tls = generatedTlsSource(['127.0.0.1'], join(dir, 'certs'));
    ({ app } = await buildApp({ engine: runtime.engine, tls: tls.source, logger: pino({ level: 'silent' }), metrics: new Registry() }));
    await app.ready();
  }, 300_000);

  afterAll(async () => {
    await app?.close();
    await runtime?.close();
    await registry?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function validate(object: Json): Promise<Json> {
    const res = await app.inject({ method: 'POST', url: '/validate', payload: JSON.stringify(reviewOf(object)), headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(200);
    return (res.json() as Json).response as Json;
  }

  it('webhook: admits a freshly scanned clean image by tag, checked at the digest the tag names', async () => {
    const response = await validate(objectOf(POD, specOf([`${img.clean.name}:v1`])));
    expect(response.allowed).toBe(true);
  });

  it('webhook: one denial per container, naming the worst findings and the scan age; stale and unscanned images too', async () => {
    const spec = specOf([img.vulnerable.ref, img.vulnerable.ref, img.stale.ref, img.unscanned.ref]);
    const response = await validate(objectOf(DEPLOYMENT, spec));
    expect(response.allowed).toBe(false);
    const lines = String(response.status.message).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^\[require-vulnerability-scan\] container "c0" \(containers\[0\]\): the vulnerability scan of sha256:\w{12}… \(trivy 0\.57\.1, 3h old\) reports 2 at or above CRITICAL: CVE-2024-45491 \(CRITICAL, libexpat1 2\.5\.0-1\), CVE-2024-45492 \(CRITICAL, libexpat1 2\.5\.0-1\) — upgrade libexpat1 2\.5\.0-1\+deb12u1, rebuild, rescan and attest/);
    expect(lines[2]).toMatch(/container "c2" \(containers\[2\]\): the vulnerability scan of sha256:\w{12}… \(trivy 0\.57\.1\) is 9d old, older than maxAge 168h — scan the image digest again/);
    expect(lines[3]).toMatch(/container "c3" \(containers\[3\]\): .*team\/unscanned@sha256:\w{12}… has no attestation of https:\/\/cosign\.sigstore\.dev\/attestation\/vuln\/v1/);
  });

  it('background scan: PolicyReport results name the failed attestation code and the scan age', async () => {
    const evaluate = async (name: string, image: string) => {
      const decision = (await runtime.engine.evaluate({ group: 'apps', kind: 'Deployment', operation: 'CREATE', namespace: 'shop', object: objectOf(DEPLOYMENT, specOf([image]), name) }, { deadline: Date.now() + 10_000 })) as Decision;
      return { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name, uid: name, pods: 2, decision, policies: ['require-vulnerability-scan'] };
    };
    const results = await Promise.all([evaluate('web', img.vulnerable.ref), evaluate('batch', img.stale.ref), evaluate('api', img.clean.ref), evaluate('new', img.unscanned.ref)]);
    const report = buildPolicyReports(results, { now: new Date(), policies: POLICIES }).namespaced.get('shop');
    const byName = Object.fromEntries((report?.results ?? []).map((r) => [r.resources[0]?.name, r]));
    expect(byName.web).toMatchObject({ result: 'fail', properties: { codes: 'VULNERABLE' }, message: expect.stringContaining('3h old') });
    expect(byName.batch).toMatchObject({ result: 'fail', properties: { codes: 'SCAN_STALE' }, message: expect.stringContaining('is 9d old') });
    expect(byName.new).toMatchObject({ result: 'fail', properties: { codes: 'NOT_FOUND' } });
    expect(byName.api).toMatchObject({ result: 'pass' });
  });

  it('portcullis audit --registry denies the same images', () => {
    const manifest = join(dir, 'workloads.yaml');
    writeFileSync(manifest, [img.clean, img.vulnerable].map((i, n) => JSON.stringify(objectOf(POD, specOf([i.ref]), `pod${n}`))).join('\n---\n'));
    const r = spawnSync(process.execPath, [`${root}dist/src/cli/main.js`, 'audit', '--registry', '--config', configPath, '-f', manifest], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/PASS +Pod\/\S*pod0/);
    expect(r.stdout).toMatch(/DENY +Pod\/\S*pod1/);
    expect(r.stdout).toContain('reports 2 at or above CRITICAL: CVE-2024-45491 (CRITICAL, libexpat1 2.5.0-1)');
  });
});
