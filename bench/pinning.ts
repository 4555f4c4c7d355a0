// Digest pinning (/mutate) beside /validate: closed-loop throughput of a ten-container pod with cached facts, and the
// registry requests a first-seen image costs through /mutate + /validate against /validate alone.
import { applyPatch } from '../test/helpers/json-patch.js';
import { allowed, h2Client } from './client.js';
import { startFakeRegistry } from './images.js';
import { registryConfig } from './images.js';
import { closedLoop, type LoadResult, type SectionOptions } from './load.js';
import { imagePodReview } from './payloads.js';
import { startSampler, type ProcUsage } from './procstat.js';
import { startPortcullis } from './targets.js';

type Json = Record<string, any>;

export interface PinningResults {
  readonly validate: { load: LoadResult; usage: ProcUsage };
  readonly mutate: { load: LoadResult; usage: ProcUsage };
  /** /mutate reviews per second over /validate's */
  readonly ratio: number;
  readonly firstSeen: { images: number; validateOnly: number; mutateThenValidate: number; allPinned: boolean; allAllowed: boolean };
}

// The review with the answer's JSON Patch applied to its object (what the API server then sends to /validate).
function pinnedReview(body: string, answer: string): { body: string; patched: boolean } {
  const response = (JSON.parse(answer) as Json).response as Json;
  if (!response.patch) return { body, patched: false };
  const review = JSON.parse(body) as Json;
  review.request.object = applyPatch(review.request.object, JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')));
  return { body: JSON.stringify(review), patched: true };
}

export async function runPinning(o: SectionOptions & { connections: number; seconds: number }): Promise<PinningResults> {
  const registry = await startFakeRegistry(o.pin.loadgen, 0);
  const target = await startPortcullis({ workDir: o.workDir, certs: o.certs, pin: o.serverPin, config: registryConfig([registry.host]), label: 'portcullis (pinning)', nodeArgs: o.nodeArgs ?? [] });
  const client = h2Client(target.base, o.certs.ca, 1);
  const ref = (name: string) => `${registry.host}/bench/${name}:1.0`;
  try {
    // 1. pod-10c shape with image facts cached: /validate of the pinned pod vs /mutate of the tagged one
    const tagged = imagePodReview(Array.from({ length: 10 }, (_, i) => ref(`pin-${i}`)), 'bench-pin');
    const pinned = pinnedReview(tagged, (await client.post('/mutate', tagged)).body);
    if (!pinned.patched) throw new Error('expected /mutate to pin the warm-up pod, got no patch');
    await client.post('/validate', pinned.body);
    const loop = async (path: string, body: string) => {
      await closedLoop({ wrk: o.wrk, url: `${target.base}${path}`, body, connections: o.connections, seconds: 1, pin: o.pin, workDir: o.workDir });
      const sampler = startSampler(target.pid);
      const load = await closedLoop({ wrk: o.wrk, url: `${target.base}${path}`, body, connections: o.connections, seconds: o.seconds, pin: o.pin, workDir: o.workDir });
      return { load, usage: sampler.stop() };
    };
    o.log('pinning: closed loop, /validate (pinned pod-10c) then /mutate (tagged pod-10c)');
    const validate = await loop('/validate', pinned.body);
    const mutate = await loop('/mutate', tagged);

    // 2. first-seen images: registry requests through /validate alone, and through /mutate then /validate
    const n = o.quick ? 20 : 200;
    o.log(`pinning: ${n} first-seen images through /validate, and ${n} through /mutate + /validate`);
    await registry.reset();
    let allAllowed = true;
    for (let i = 0; i < n; i++) allAllowed &&= allowed(await client.post('/validate', imagePodReview([ref(`first-v-${i}`)], `bench-fv-${i}`)));
    const validateOnly = (await registry.stats()).total / n;
    await registry.reset();
    let allPinned = true;
    for (let i = 0; i < n; i++) {
      const body = imagePodReview([ref(`first-m-${i}`)], `bench-fm-${i}`);
      const next = pinnedReview(body, (await client.post('/mutate', body)).body);
      allPinned &&= next.patched;
      allAllowed &&= allowed(await client.post('/validate', next.body));
    }
    const mutateThenValidate = (await registry.stats()).total / n;
    return { validate, mutate, ratio: mutate.load.rps / validate.load.rps, firstSeen: { images: n, validateOnly, mutateThenValidate, allPinned, allAllowed } };
  } finally {
    client.close();
    await target.stop();
    await registry.stop();
  }
}
