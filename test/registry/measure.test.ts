// Loopback measurements for the closing note (skipped unless PORTCULLIS_MEASURE=1):
//   PORTCULLIS_MEASURE=1 PATH=$PWD/node_modules/.bin:$PATH vitest run test/registry/measure.test.ts
// Cold look-up (manifest + config), warm look-up, and the registry requests that 500 concurrent
// look-ups of one never-seen image cause, counted at a proxy. Prints numbers; asserts only counts.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImageFactsSource } from '../../src/images/facts.js';
import type { RegistryOptionsInput } from '../../src/images/options.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushTestImages, USER_IMAGES, type TestImage } from '../helpers/registry-images.js';
import { startFaultProxy, type FaultProxy } from '../helpers/registry-proxy.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const soon = () => Date.now() + 20_000;

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
  return `n=${s.length} median=${q(0.5).toFixed(3)}ms p95=${q(0.95).toFixed(3)}ms max=${(s[s.length - 1] as number).toFixed(3)}ms`;
}

describe.runIf(process.env.PORTCULLIS_MEASURE === '1')('registry look-up measurements (loopback)', () => {
  let plain: TestRegistry;
  let token: TestRegistry;
  let plainImages: Record<string, TestImage>;
  let tokenImages: Record<string, TestImage>;
  let proxy: FaultProxy;

  beforeAll(async () => {
    plain = await startRegistry({ auth: 'none', tls: false });
    token = await startRegistry({ auth: 'token', tls: true });
    plainImages = await pushTestImages(plain);
    tokenImages = await pushTestImages(token);
    proxy = await startFaultProxy(plain.url);
  }, 300_000);

  afterAll(async () => {
    await proxy?.stop();
    await plain?.stop();
    await token?.stop();
  });

  it('cold and warm latency', async () => {
    const names = Object.keys(USER_IMAGES);
    for (const [label, reg, imgs, extra] of [
      ['plain HTTP, anonymous', plain, plainImages, { insecure: [plain.host] }],
      ['TLS + token auth', token, tokenImages, { caFile: token.caFile as string }],
    ] as Array<[string, TestRegistry, Record<string, TestImage>, RegistryOptionsInput]>) {
      const coldNewConn: number[] = [];
      const coldWarmConn: number[] = [];
      for (let round = 0; round < 5; round++) {
        // a fresh source per round: new connections, empty caches, no token
        const src = createImageFactsSource(extra, {});
        for (const [i, n] of names.entries()) {
          const t0 = performance.now();
          const r = await src.lookup((imgs[n] as TestImage).ref, { platform: amd64, deadline: soon(), ...(reg.dockerConfig ? { credentials: reg.dockerConfig } : {}) });
          (i === 0 ? coldNewConn : coldWarmConn).push(performance.now() - t0);
          expect(r.ok).toBe(true);
        }
        await src.close();
      }
      const src = createImageFactsSource(extra, {});
      const ref = (imgs['user-1000'] as TestImage).ref;
      const creds = reg.dockerConfig ? { credentials: reg.dockerConfig } : {};
      await src.lookup(ref, { platform: amd64, deadline: soon(), ...creds });
      const warm: number[] = [];
      for (let i = 0; i < 20_000; i++) {
        const t0 = performance.now();
        await src.lookup(ref, { platform: amd64, deadline: soon(), ...creds });
        warm.push(performance.now() - t0);
      }
      await src.close();
      console.log(`[${label}] cold, first look-up on a new source (connect${reg.auth === 'token' ? ' + TLS + token' : ''}): ${stats(coldNewConn)}`);
      console.log(`[${label}] cold, image not seen, connection reused: ${stats(coldWarmConn)}`);
      console.log(`[${label}] warm (cached): ${stats(warm)}`);
    }
  }, 120_000);

  it('500 concurrent look-ups of one never-seen image', async () => {
    for (const name of ['user-nginx', 'multi']) {
      proxy.reset();
      const src = createImageFactsSource({ insecure: [proxy.host] }, {});
      const ref = `${proxy.host}/${(plainImages[name] as TestImage).repository}:v1`;
      const t0 = performance.now();
      const results = await Promise.all(Array.from({ length: 500 }, () => src.lookup(ref, { platform: amd64, deadline: soon() })));
      const wall = performance.now() - t0;
      await src.close();
      expect(results.every((r) => r.ok)).toBe(true);
      const requests = proxy.seen.filter((r) => r.path !== '/v2/').map((r) => `${r.method} ${r.path.split('/')[4]}`);
      console.log(`[500 concurrent, ${name}] registry requests: ${requests.length} (${requests.join(', ')}); all 500 answered in ${wall.toFixed(1)}ms`);
      expect(requests.length).toBe(name === 'multi' ? 3 : 2);
    }
  }, 60_000);
});
