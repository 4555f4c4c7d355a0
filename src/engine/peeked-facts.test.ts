import { describe, expect, it } from 'vitest';
import { PeekedFacts, requestParts } from './peeked-facts.js';
import { NO_FACTS, type FactGatherer, type FactRequest } from './facts.js';
import type { FactKind, Facts } from './types.js';
import { podSiteOf } from '../workload/podspecs.js';

// A Pod's request for image configs (and signatures) of its images, the spec tweaked.
function request(tweak: (spec: Record<string, unknown>) => void = () => {}, namespace = 'team-a', kinds: readonly FactKind[] = ['imageConfig']): FactRequest {
  const spec: Record<string, unknown> = { containers: [{ name: 'app', image: 'registry.example/app:v1' }, { name: 'side', image: 'registry.example/side:v2' }] };
  tweak(spec);
  const pod = podSiteOf({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec }, '', 'Pod')!;
  const images = new Set(pod.containers.map((s) => s.container.image));
  return { pod, namespace, images: new Map(kinds.map((k) => [k, images])), deadline: Date.now() + 1000 };
}

// A gatherer over one cache whose state is a generation; each peek's answer expires `ttl` ms after it, and counts.
function gatherer(opts: { ttl?: number; peekable?: boolean } = {}) {
  const state = { generation: 0, peeks: 0, gathers: 0, counted: 0, clock: 1000 };
  const facts = (): Facts => ({ ...NO_FACTS });
  const g: FactGatherer = {
    gather: async () => (state.gathers++, facts()),
    peek: (_r, hits) => {
      state.peeks++;
      if (opts.peekable === false) return undefined;
      hits.push(() => void state.counted++);
      if (opts.ttl !== undefined) hits.expireBy(state.clock + opts.ttl);
      return facts();
    },
    generation: () => state.generation,
  };
  return { g, state, memo: new PeekedFacts(g, () => state.clock) };
}

describe('peeked facts', () => {
  it('answers the same facts again, counting their hits, while the generation holds', () => {
    const { state, memo } = gatherer();
    const first = memo.facts(request());
    expect(memo.facts(request())).toBe(first);
    expect(memo.facts(request())).toBe(first);
    expect(state).toMatchObject({ peeks: 1, counted: 3 });
    state.generation++;
    expect(memo.facts(request())).not.toBe(first);
    expect(state).toMatchObject({ peeks: 2, counted: 4 });
  });

  it('peeks again once the first entry read expires', () => {
    const { state, memo } = gatherer({ ttl: 50 });
    const first = memo.facts(request());
    state.clock += 49;
    expect(memo.facts(request())).toBe(first);
    state.clock += 1;
    expect(memo.facts(request())).not.toBe(first);
    expect(state.peeks).toBe(2);
  });

  it('peeks for itself every request that differs in a part the facts depend on', () => {
    const variants: FactRequest[] = [
      request(() => {}, 'team-b'),
      request((s) => (s.serviceAccountName = 'builder')),
      request((s) => (s.imagePullSecrets = [{ name: 'regcred' }])),
      request((s) => (s.nodeSelector = { 'kubernetes.io/arch': 'arm64' })),
      request((s) => (s.nodeSelector = { 'kubernetes.io/os': 'windows' })),
      request((s) => (s.os = { name: 'windows' })),
      request((s) => ((s.containers as Array<{ image: string }>)[1]!.image = 'registry.example/side:v3')),
      request(() => {}, 'team-a', ['imageConfig', 'signature']),
    ];
    const parts = variants.map((r) => requestParts(r).join('\u0000'));
    expect(new Set([requestParts(request()).join('\u0000'), ...parts]).size).toBe(variants.length + 1);
    for (const variant of variants) {
      const { state, memo } = gatherer();
      memo.facts(request());
      memo.facts(variant);
      expect(state.peeks).toBe(2);
    }
  });

  it('gathers what the caches cannot answer, and remembers nothing of it', async () => {
    const { state, memo } = gatherer({ peekable: false });
    await memo.facts(request());
    await memo.facts(request());
    expect(state).toMatchObject({ peeks: 2, gathers: 2 });
  });

  it('peeks every request for a gatherer without a generation', () => {
    const { g, state } = gatherer();
    const memo = new PeekedFacts({ gather: g.gather, peek: g.peek! });
    memo.facts(request());
    memo.facts(request());
    expect(state.peeks).toBe(2);
  });
});
