// Verification latency on loopback, cold (fresh verifier, nothing cached) and warm (cached by digest and authority),
// printed as a table. Asserts only behaviour (a warm digest makes no registry request), never time.
// PORTCULLIS_BENCH_N=<n> raises the sample count (default 10 cold, 200 warm per case).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/images/client.js';
import { createSignatureVerifier, type SignedImagesParams } from '../../src/signatures/index.js';
import { SIGNED_IMAGES_DEFAULTS } from '../../policies/require-signed-images/params.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { RegistryWriter, keyBundle, keyPair, legacySignWithKey, pushBundleReferrer, pushLegacySignature, signStatement, type PushedImage } from '../helpers/cosign-format.js';
import { mockSigstore } from '../helpers/cosign-keyless.js';

const N = Number(process.env.PORTCULLIS_BENCH_N ?? 10);
const WARM = Math.max(200, N * 20);
const ISSUER = 'https://issuer.portcullis.test';
const SUBJECT = 'https://github.com/example/app/.github/workflows/release.yml@refs/heads/main';

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
  return `p50 ${q(0.5).toFixed(3)} ms  p95 ${q(0.95).toFixed(3)} ms  max ${(s.at(-1) as number).toFixed(3)} ms  (n=${s.length})`;
}

describe('signature verification latency (loopback)', () => {
  let registry: TestRegistry;
  let w: RegistryWriter;
  let client: RegistryClient;
  let requests = 0;
  let dir: string;
  let params: SignedImagesParams;
  const key = keyPair('p256');
  const images: Record<'legacy' | 'bundle' | 'keyless', PushedImage[]> = { legacy: [], bundle: [], keyless: [] };

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'none', tls: false });
    w = new RegistryWriter(registry.host);
    client = new RegistryClient({ insecure: [registry.host], observe: () => void requests++ });
    dir = mkdtempSync(join(tmpdir(), 'portcullis-sigbench-'));
    const sigstore = await mockSigstore();
    params = {
      ...SIGNED_IMAGES_DEFAULTS,
      trustedRoot: sigstore.writeTrustedRoot(dir),
      authorities: { 'team-key': { key: key.publicPem, ignoreTlog: true }, release: { keyless: { issuer: ISSUER, subject: SUBJECT } } },
      images: [{ pattern: `${registry.host}/bench/keyless*`, authorities: ['release'] }, { pattern: '**', authorities: ['team-key'] }],
    };
    for (let i = 0; i < N; i++) {
      const a = await w.image(`bench/legacy${i}`, `l${i}`, 'v1');
      await legacySignWithKey(w, a, key.privateKey);
      images.legacy.push(a);
      const b = await w.image(`bench/bundle${i}`, `b${i}`, 'v1');
      await pushBundleReferrer(w, b, keyBundle(key.privateKey, signStatement(b.digest)));
      images.bundle.push(b);
      const c = await w.image(`bench/keyless${i}`, `k${i}`, 'v1');
      await pushLegacySignature(w, c, [await sigstore.legacyLayer(await sigstore.issue(SUBJECT, ISSUER), c)]);
      images.keyless.push(c);
    }
  }, 300_000);

  afterAll(async () => {
    await client?.close();
    await registry?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints cold and warm latency', async () => {
    const lines: string[] = [];
    for (const kind of ['legacy', 'bundle', 'keyless'] as const) {
      const cold: number[] = [];
      const warm: number[] = [];
      const warmTag: number[] = [];
      for (const img of images[kind]) {
        const v = createSignatureVerifier({ tagTtlMs: 0 }, { client });
        let t = performance.now();
        const fact = await v.verify(img.ref, params, { deadline: Date.now() + 10_000 });
        cold.push(performance.now() - t);
        expect(fact).toMatchObject({ status: 'verified', code: 'VERIFIED' });
        const before = requests;
        for (let i = 0; i < WARM / images[kind].length; i++) {
          t = performance.now();
          await v.verify(img.ref, params, { deadline: Date.now() + 10_000 });
          warm.push(performance.now() - t);
        }
        expect(requests).toBe(before);
        for (let i = 0; i < 5; i++) {
          t = performance.now();
          await v.verify(`${img.name}:v1`, params, { deadline: Date.now() + 10_000 });
          warmTag.push(performance.now() - t);
        }
      }
      lines.push(`${kind.padEnd(8)} cold (digest ref)           ${stats(cold)}`);
      lines.push(`${kind.padEnd(8)} warm (digest ref, cached)   ${stats(warm)}`);
      lines.push(`${kind.padEnd(8)} warm (tag ref, HEAD + cache) ${stats(warmTag)}`);
    }
    console.log(`\nsignature verification latency, loopback docker-registry:\n${lines.join('\n')}\n`);
  }, 300_000);
});
