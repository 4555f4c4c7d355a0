// The engine's synchronous path: a review whose facts (digests, image configs, signature verdicts, attestations) are
// all cached is decided at once, with the decision and the metrics the look-ups would give; anything missing,
// expired, in flight or asked under other credentials falls back to the look-ups. Over a real registry (Debian's
// docker-registry) with cosign-format signatures, through the gatherer chain the runtime builds.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { RegistryClient } from '../../src/images/client.js';
import { ImageResolver } from '../../src/images/resolver.js';
import { createImageFactsSource } from '../../src/images/facts.js';
import { imageFactGatherer } from '../../src/images/gatherer.js';
import { resolvingGatherer } from '../../src/images/resolution.js';
import { watchedGatherer } from '../../src/images/watched-cache.js';
import { NOT_CACHED, type PullSecretReader } from '../../src/images/pull-secrets.js';
import type { DockerConfigJson } from '../../src/images/credentials.js';
import { attestationFactGatherer, createAttestationVerifier, createSignatureVerifier, signatureFactGatherer, type SignedImagesParams } from '../../src/signatures/index.js';
import { createEngine, type Engine } from '../../src/engine/evaluate.js';
import type { Decision } from '../../src/engine/decision.js';
import { CacheHits, type FactGatherer } from '../../src/engine/facts.js';
import type { Config } from '../../src/config/types.js';
import type { AttestationParams } from '../../src/signatures/attestation-params.js';
import { configWith } from '../helpers/engine.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { RegistryWriter, keyPair, legacySignWithKey, type PushedImage } from '../helpers/cosign-format.js';

let registry: TestRegistry;
let w: RegistryWriter;
const team = keyPair('p256');
let requests = 0;

beforeAll(async () => {
  registry = await startRegistry({ auth: 'none', tls: false });
  w = new RegistryWriter(registry.host);
}, 120_000);

afterAll(async () => {
  await registry?.stop();
});

let seq = 0;
// A fresh image, signed by the team key unless told otherwise, under a tag.
async function pushed(signed = true): Promise<PushedImage & { tagged: string }> {
  const img = await w.image(`cached/app${++seq}`, `seed-${seq}-${Math.random()}`, 'v1');
  if (signed) await legacySignWithKey(w, img, team.privateKey);
  return { ...img, tagged: `${img.name}:v1` };
}

interface Chain {
  readonly config: Config;
  readonly engine: Engine;
  readonly gatherer: FactGatherer;
  readonly metrics: Registry;
  close(): Promise<void>;
}

// The runtime's gatherer chain (resolution, image facts, attestations, signatures) over one client and resolver,
// with an engine running require-non-root-user and require-signed-images.
interface ChainOptions {
  readonly tagTtlMs?: number;
  readonly verifiedTtlMs?: number;
  readonly pullSecrets?: PullSecretReader;
}

function chain(opts: ChainOptions = {}): Chain {
  const metrics = new Registry();
  const client = new RegistryClient({ insecure: [registry.host], maxTries: 1, observe: () => void requests++ });
  const resolver = new ImageResolver(client, { tagTtlMs: opts.tagTtlMs ?? 60_000, maxEntries: 1000 });
  const shared = { client, resolver, metrics };
  const source = createImageFactsSource({ insecure: [registry.host] }, shared);
  const verifier = createSignatureVerifier(opts.verifiedTtlMs ? { verifiedTtlMs: opts.verifiedTtlMs } : {}, shared);
  const attestations = createAttestationVerifier({}, shared);
  const config = configWith({
    'require-non-root-user': { action: 'deny' },
    'require-signed-images': { action: 'deny', authorities: { team: { key: team.publicPem, ignoreTlog: true } }, images: [{ pattern: `${registry.host}/**`, authorities: ['team'] }] },
  });
  const secrets = opts.pullSecrets ? { pullSecrets: opts.pullSecrets } : {};
  const signatures = signatureFactGatherer(verifier, { params: () => config.policies['require-signed-images']?.params as SignedImagesParams | undefined, ...secrets });
  const attested = attestationFactGatherer(attestations, { policies: () => [], ...secrets }, signatures);
  const facts = imageFactGatherer(source, { os: 'linux', architecture: 'amd64' }, attested, opts.pullSecrets);
  // as the runtime builds it: peeks watched, so that the engine answers peeked facts again while the caches stand still
  const chained = resolvingGatherer(resolver, 5000, facts, opts.pullSecrets);
  const gatherer = watchedGatherer(() => chained);
  return {
    config,
    engine: createEngine({ config: () => config, facts: gatherer }),
    gatherer,
    metrics,
    close: async () => {
      await Promise.all([source.close(), verifier.close(), attestations.close()]);
      await client.close();
    },
  };
}

// Runs a test over a fresh chain, closed after it.
async function withChain(opts: ChainOptions, test: (c: Chain) => Promise<void>): Promise<void> {
  const c = chain(opts);
  try {
    await test(c);
  } finally {
    await c.close();
  }
}

// A Pod in the namespace whose spec leaves the user to the image config.
function podOf(image: string, namespace = 'team-a') {
  const object = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'app', namespace }, spec: { containers: [{ name: 'app', image, securityContext: { allowPrivilegeEscalation: false } }] } };
  return { group: '', kind: 'Pod', operation: 'CREATE' as const, namespace, object };
}

const soon = () => ({ deadline: Date.now() + 5000 });

// Every counter and histogram count of the chain's metrics, by series.
async function counts(metrics: Registry): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of await metrics.getMetricsAsJSON()) {
    for (const v of m.values as Array<{ metricName?: string; labels: object; value: number }>) {
      if (v.metricName && !v.metricName.endsWith('_count') && String(m.type) === 'histogram') continue;
      out.set(`${v.metricName ?? m.name}${JSON.stringify(v.labels)}`, v.value);
    }
  }
  return out;
}

function delta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) if (v !== (before.get(k) ?? 0)) out[k] = v - (before.get(k) ?? 0);
  return out;
}

describe('the synchronous path over cached facts', () => {
  it('decides a review whose facts are cached at once, as the look-ups decided it, without a registry request', () =>
    withChain({}, async (c) => {
      const [signed, unsigned] = [await pushed(), await pushed(false)];
      for (const image of [signed.tagged, unsigned.tagged]) {
        const first = c.engine.evaluate(podOf(image), soon());
        expect(first).toBeInstanceOf(Promise);
        const looked = await first;
        const asked = requests;
        const now = c.engine.evaluate(podOf(image), soon());
        expect(now).not.toBeInstanceOf(Promise);
        expect(now).toEqual(looked);
        expect(requests).toBe(asked);
      }
      // the digest the tag named: its facts and verdict are the ones cached for the tag
      expect(c.engine.evaluate(podOf(signed.ref), soon())).toMatchObject({ allowed: true, violations: [] });
      const denied = c.engine.evaluate(podOf(unsigned.tagged), soon()) as Decision;
      expect(denied.allowed).toBe(false);
      expect(denied.violations.map((v) => [v.policy, v.code])).toEqual([['require-signed-images', 'NOT_FOUND']]);
    }));

  it('counts the cache hits and latencies the look-ups would count', () =>
    withChain({}, async (c) => {
      const img = await pushed();
      await c.engine.evaluate(podOf(img.tagged), soon());
      // the same chain without its peek: every fact from the caches, through the asynchronous look-ups
      const gatherOnly = createEngine({ config: () => c.config, facts: { gather: (r) => c.gatherer.gather(r) } });
      const before = await counts(c.metrics);
      const syncDecision = c.engine.evaluate(podOf(img.tagged), soon());
      expect(syncDecision).not.toBeInstanceOf(Promise);
      const afterSync = await counts(c.metrics);
      // the same facts answered again without a peek count the same
      expect(c.engine.evaluate(podOf(img.tagged), soon())).toEqual(syncDecision);
      const afterAgain = await counts(c.metrics);
      const looked = gatherOnly.evaluate(podOf(img.tagged), soon());
      expect(looked).toBeInstanceOf(Promise);
      await looked;
      const afterGather = await counts(c.metrics);
      const bySync = delta(before, afterSync);
      expect(bySync).toEqual(delta(afterSync, afterAgain));
      expect(bySync).toEqual(delta(afterAgain, afterGather));
      expect(bySync).toMatchObject({ 'portcullis_registry_cache_hits_total{"cache":"facts"}': 1, 'portcullis_signature_cache_lookups_total{"cache":"outcome","hit":"true"}': 1 });
    }));

  it('answers peeked facts again without peeking while no cache changed, and peeks again once one did', () =>
    withChain({}, async (c) => {
      const [a, b] = [await pushed(), await pushed()];
      let peeks = 0;
      const counted: FactGatherer = { gather: (r) => c.gatherer.gather(r), peek: (r, hits) => (peeks++, c.gatherer.peek?.(r, hits)), generation: c.gatherer.generation! };
      const engine = createEngine({ config: () => c.config, facts: counted });
      const looked = await engine.evaluate(podOf(a.tagged), soon());
      const peeked = peeks;
      for (let i = 0; i < 3; i++) expect(engine.evaluate(podOf(a.tagged), soon())).toEqual(looked);
      expect(peeks).toBe(peeked + 1);
      // another namespace is another request (its pull secrets may differ): peeked for itself
      expect(engine.evaluate(podOf(a.tagged, 'team-b'), soon())).toEqual(looked);
      expect(peeks).toBe(peeked + 2);
      // looking up another image fills the caches: the first request's facts are peeked again, and still the same
      await engine.evaluate(podOf(b.tagged), soon());
      const before = peeks;
      expect(engine.evaluate(podOf(a.tagged), soon())).toEqual(looked);
      expect(peeks).toBe(before + 1);
    }));

  it('falls back to the look-ups while a fact is in flight, then answers at once', () =>
    withChain({}, async (c) => {
      const img = await pushed();
      const first = c.engine.evaluate(podOf(img.tagged), soon());
      const second = c.engine.evaluate(podOf(img.tagged), soon());
      expect(first).toBeInstanceOf(Promise);
      expect(second).toBeInstanceOf(Promise);
      const [a, b] = await Promise.all([first, second]);
      expect(b).toEqual(a);
      expect(c.engine.evaluate(podOf(img.tagged), soon())).toEqual(a);
    }));

  it('falls back to the look-ups when a tag answer or a signature verdict expired', () =>
    withChain({ tagTtlMs: 250, verifiedTtlMs: 250 }, async (c) => {
      const img = await pushed();
      for (const image of [img.tagged, img.ref]) {
        const looked = await c.engine.evaluate(podOf(image), soon());
        // answered at once (and the answer kept) while fresh, looked up again once expired
        expect(c.engine.evaluate(podOf(image), soon())).toEqual(looked);
        await sleep(400);
        const again = c.engine.evaluate(podOf(image), soon());
        expect(again).toBeInstanceOf(Promise);
        expect(await again).toEqual(looked);
      }
    }));

  it('falls back to the look-ups when the tag answer alone expired (its verdict still cached)', () =>
    withChain({ tagTtlMs: 250 }, async (c) => {
      const img = await pushed();
      const looked = await c.engine.evaluate(podOf(img.tagged), soon());
      expect(c.engine.evaluate(podOf(img.tagged), soon())).toEqual(looked);
      await sleep(400);
      const again = c.engine.evaluate(podOf(img.tagged), soon());
      expect(again).toBeInstanceOf(Promise);
      expect(await again).toEqual(looked);
    }));

  it('answers at once only under the credentials the cached tag was resolved with', () => {
    const creds: DockerConfigJson = { auths: { [registry.host]: { username: 'team-a', password: 'secret-a' } } };
    const byNamespace: Record<string, DockerConfigJson | undefined> = { 'team-a': creds, 'team-a2': creds, 'team-b': undefined };
    const reader: PullSecretReader = { credentialsFor: async (namespace) => byNamespace[namespace], peekCredentials: (namespace) => byNamespace[namespace] };
    return withChain({ pullSecrets: reader }, async (c) => {
      const img = await pushed();
      const looked = await c.engine.evaluate(podOf(img.tagged, 'team-a'), soon());
      // another namespace with the same pull secret: the same cache entries
      expect(c.engine.evaluate(podOf(img.tagged, 'team-a2'), soon())).not.toBeInstanceOf(Promise);
      // another credential: its own tag resolution, as the look-ups would do
      const asked = requests;
      const other = c.engine.evaluate(podOf(img.tagged, 'team-b'), soon());
      expect(other).toBeInstanceOf(Promise);
      expect((await other).allowed).toBe(looked.allowed);
      expect(requests).toBeGreaterThan(asked);
      expect(c.engine.evaluate(podOf(img.tagged, 'team-b'), soon())).not.toBeInstanceOf(Promise);
    });
  });

  it('falls back to the look-ups while the pull secrets are not read yet', () => {
    const reader: PullSecretReader = { credentialsFor: async () => undefined, peekCredentials: () => NOT_CACHED };
    return withChain({ pullSecrets: reader }, async (c) => {
      const img = await pushed();
      const looked = await c.engine.evaluate(podOf(img.tagged), soon());
      const again = c.engine.evaluate(podOf(img.tagged), soon());
      expect(again).toBeInstanceOf(Promise);
      expect(await again).toEqual(looked);
    });
  });
});

describe('verifier peek', () => {
  it('answers an attestation verdict from cache as verify did, and nothing before it is cached', async () => {
    const client = new RegistryClient({ insecure: [registry.host], maxTries: 1, observe: () => void requests++ });
    const verifier = createAttestationVerifier({}, { client });
    try {
      const img = await pushed(false);
      const params: AttestationParams = { authorities: { team: { key: team.publicPem, ignoreTlog: true } }, images: [{ pattern: '**', authorities: ['team'] }], noMatch: 'deny', onError: 'deny', trustedRoot: '', predicateTypes: ['https://slsa.dev/provenance/v1'] };
      const opts = { ...soon(), digest: img.digest };
      const hits = new CacheHits();
      expect(verifier.peek?.(img.ref, params, opts, hits)).toBeUndefined();
      expect(hits.counts).toEqual([]);
      const verified = await verifier.verify(img.ref, params, opts);
      expect(verified).toMatchObject({ status: 'unverified', code: 'NOT_FOUND' });
      const asked = requests;
      expect(verifier.peek?.(img.ref, params, opts, hits)).toEqual(verified);
      expect(hits.counts).toHaveLength(1);
      expect(requests).toBe(asked);
    } finally {
      await verifier.close();
      await client.close();
    }
  });
});
