import { describe, expect, it } from 'vitest';
import { createEngine } from './evaluate.js';
import type { EvaluationInput } from './evaluate.js';
import type { FactGatherer } from './facts.js';
import { NO_FACTS } from './facts.js';
import type { PinPlan } from './pinning.js';
import { configWith } from '../../test/helpers/engine.js';
import { compliantSpec, KINDS, objectOf, specWith } from '../../test/helpers/pods.js';
import type { Json } from '../../test/helpers/pods.js';

const DIGEST = `sha256:${'c'.repeat(64)}`;
const POD = KINDS[0]!;
const DEPLOYMENT = KINDS.find((k) => k.kind === 'Deployment')!;
const deadline = () => ({ deadline: Date.now() + 5000 });

// Resolves every tag to DIGEST, except images containing "broken" (a registry error); records what it was asked.
function resolving(asked: string[][] = []): FactGatherer {
  return {
    gather: async (request) => {
      asked.push([...(request.images.get('digest') ?? [])]);
      return {
        ...NO_FACTS,
        digest: (image) => (image.includes('broken') ? { status: 'error', code: 'REGISTRY_UNREACHABLE', message: 'registry.example.com: connection refused' } : { status: 'ok', digest: DIGEST }),
      };
    },
  };
}

const ON = { 'require-non-root-user': { action: 'deny' }, 'disallow-latest-tag': { action: 'deny' } };

function engine(extra: Record<string, unknown> = {}, policies: Record<string, Record<string, unknown>> = ON, asked?: string[][]) {
  const config = configWith(policies, extra);
  return createEngine({ config: () => config, facts: resolving(asked) });
}

function input(object: Json, over: Partial<EvaluationInput> = {}): EvaluationInput {
  const kind = object.kind as string;
  return { group: object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '', kind, operation: 'CREATE', namespace: 'default', object, ...over };
}

async function plan(e: ReturnType<typeof engine>, i: EvaluationInput): Promise<PinPlan> {
  return e.pin(i, deadline());
}

const twoContainers = () =>
  objectOf(POD, specWith((s) => {
    s.containers.push({ name: 'side', image: `registry.example.com/team/side@${DIGEST}` });
    s.initContainers = [{ name: 'init', image: 'registry.example.com/team/init:2.0' }];
  }));

describe('engine.pin', () => {
  it('pins every tag-only image of a created Pod, leaving digests alone', async () => {
    const p = await plan(engine(), input(twoContainers()));
    expect(p.apply).toBe(true);
    expect(p.pinned.map((x) => [x.container.list, x.container.index, x.to])).toEqual([
      ['containers', 0, `registry.example.com/team/app:1.4.2@${DIGEST}`],
      ['initContainers', 0, `registry.example.com/team/init:2.0@${DIGEST}`],
    ]);
  });

  it('never pins templates, deletions or other subresources', async () => {
    const e = engine();
    expect((await plan(e, input(objectOf(DEPLOYMENT, compliantSpec())))).skipped).toContain('only Pods');
    expect((await plan(e, input(objectOf(POD, compliantSpec()), { operation: 'DELETE' }))).skipped).toContain('never pinned');
    expect((await plan(e, input(objectOf(POD, compliantSpec()), { operation: 'UPDATE', subresource: 'status' }))).skipped).toContain('never pinned');
  });

  it('pins the images a Pod update changes, and never touches an unchanged one (rewriting it would restart the container)', async () => {
    const old = objectOf(POD, specWith((s) => s.containers.push({ name: 'side', image: 'registry.example.com/team/side:1.0' })));
    const now = objectOf(POD, specWith((s) => s.containers.push({ name: 'side', image: 'registry.example.com/team/side:1.1' })));
    const p = await plan(engine(), input(now, { operation: 'UPDATE', oldObject: old }));
    expect(p.pinned.map((x) => [x.container.name, x.to])).toEqual([['side', `registry.example.com/team/side:1.1@${DIGEST}`]]);
    // a label change: nothing to pin, and nothing looked up
    const asked: string[][] = [];
    expect((await plan(engine({}, ON, asked), input(old, { operation: 'UPDATE', oldObject: old }))).pinned).toEqual([]);
    expect(asked).toEqual([]);
    // re-applying the tag-only manifest over a pinned Pod pins it again (to the digest the tag names now)
    const pinned = objectOf(POD, specWith((s) => (s.containers[0].image = `registry.example.com/team/app:1.4.2@${DIGEST}`)));
    const reapplied = await plan(engine(), input(objectOf(POD, compliantSpec()), { operation: 'UPDATE', oldObject: pinned }));
    expect(reapplied.pinned.map((x) => x.to)).toEqual([`registry.example.com/team/app:1.4.2@${DIGEST}`]);
  });

  it('pins only the new ephemeral containers of a kubectl debug update', async () => {
    const old = specWith((s) => (s.ephemeralContainers = [{ name: 'debug-1', image: 'busybox:1.36' }]));
    const now = specWith((s) => (s.ephemeralContainers = [{ name: 'debug-1', image: 'busybox:1.36' }, { name: 'debug-2', image: 'busybox:1.36' }]));
    const p = await plan(engine(), input(objectOf(POD, now), { operation: 'UPDATE', subresource: 'ephemeralcontainers', oldObject: objectOf(POD, old) }));
    expect(p.pinned.map((x) => x.container.name)).toEqual(['debug-2']);
  });

  it('turns itself on with image-fact policies (auto), and follows enabled true/false', async () => {
    const specOnly = { 'disallow-latest-tag': { action: 'deny' } };
    expect((await plan(engine({}, specOnly), input(twoContainers()))).skipped).toContain('pinning is off');
    expect((await plan(engine({ pinning: { enabled: true } }, specOnly), input(twoContainers()))).pinned).toHaveLength(2);
    expect((await plan(engine({ pinning: { enabled: false } }), input(twoContainers()))).skipped).toContain('pinning is off');
    expect((await plan(engine({ registry: { enabled: false } }), input(twoContainers()))).skipped).toContain('pinning is off');
  });

  it('does not patch in audit mode or a dry run, and says what it would pin', async () => {
    for (const [extra, over] of [[{ mode: 'audit' }, {}], [{}, { dryRun: true }], [{}, { forceAudit: true }], [{ audit: { namespaces: ['default'] } }, {}]] as const) {
      const p = await plan(engine(extra), input(twoContainers(), over));
      expect(p.apply, JSON.stringify([extra, over])).toBe(false);
      expect(p.pinned).toHaveLength(2);
    }
  });

  it('skips excluded namespaces and images, unparsable references, and tags disallow-latest-tag must still see', async () => {
    const e = engine({ pinning: { exclude: { namespaces: ['legacy'], images: ['registry.example.com/team/init*'] } } });
    expect((await plan(e, input(twoContainers(), { namespace: 'legacy' }))).skipped).toContain('excluded');
    expect((await plan(e, input(twoContainers()))).pinned.map((x) => x.container.name)).toEqual(['app']);
    const odd = objectOf(POD, specWith((s) => s.containers.push({ name: 'bad', image: 'Not A Ref' }, { name: 'latest', image: 'nginx:latest' }, { name: 'untagged', image: 'nginx' })));
    expect((await plan(engine(), input(odd))).pinned.map((x) => x.container.name)).toEqual(['app']);
    // with disallow-latest-tag off, latest is pinned like any tag
    expect((await plan(engine({}, { 'require-non-root-user': { action: 'deny' } }), input(odd))).pinned.map((x) => x.container.name)).toEqual(['app', 'latest', 'untagged']);
  });

  it('reports images it could not resolve as failed, without pinning them', async () => {
    const pod = objectOf(POD, specWith((s) => s.containers.push({ name: 'b', image: 'registry.example.com/broken:1' })));
    const p = await plan(engine(), input(pod));
    expect(p.pinned.map((x) => x.container.name)).toEqual(['app']);
    expect(p.failed).toMatchObject([{ image: 'registry.example.com/broken:1', reason: expect.stringContaining('connection refused') }]);
  });

  it('asks for each image once, whatever the number of containers', async () => {
    const asked: string[][] = [];
    const pod = objectOf(POD, specWith((s) => {
      for (let i = 0; i < 2000; i++) s.containers.push({ name: `c${i}`, image: `registry.example.com/team/app:${i % 3}` });
    }));
    const p = await plan(engine({}, ON, asked), input(pod));
    expect(asked).toEqual([['registry.example.com/team/app:1.4.2', 'registry.example.com/team/app:0', 'registry.example.com/team/app:1', 'registry.example.com/team/app:2']]);
    expect(p.pinned).toHaveLength(2001);
  });
});

describe('validation of a Pod the mutating webhook did not pin', () => {
  const validate = (extra: Record<string, unknown>, over: Partial<EvaluationInput> = {}) =>
    Promise.resolve(engine(extra, { 'require-non-root-user': { action: 'deny' } }).evaluate(input(objectOf(POD, compliantSpec()), { checkPinned: true, ...over }), deadline()));

  it('warns by default, and refuses with pinning.required', async () => {
    const warned = await validate({});
    expect(warned.allowed).toBe(true);
    expect(warned.warnings).toEqual([expect.stringMatching(/^\[pinning\] container "app" \(containers\[0\]\): image "registry.example.com\/team\/app:1.4.2" is not pinned to a digest/)]);
    const refused = await validate({ pinning: { required: true } });
    expect(refused.allowed).toBe(false);
    expect(refused.violations.map((v) => [v.policy, v.effect])).toEqual([['pinning', 'deny']]);
  });

  it('on a Pod update, names only the images the update changed', async () => {
    const old = objectOf(POD, specWith((s) => s.containers.push({ name: 'side', image: 'registry.example.com/team/side:1.0' })));
    const now = objectOf(POD, specWith((s) => s.containers.push({ name: 'side', image: 'registry.example.com/team/side:1.1' })));
    const d = await validate({}, { operation: 'UPDATE', object: now, oldObject: old });
    expect(d.violations.filter((v) => v.policy === 'pinning').map((v) => v.container?.name)).toEqual(['side']);
  });

  it('only warns in audit mode, and says nothing for dry runs, templates or digests', async () => {
    expect((await validate({ pinning: { required: true }, mode: 'audit' })).violations).toMatchObject([{ policy: 'pinning', effect: 'warn', wouldDeny: true }]);
    expect((await validate({ pinning: { required: true } }, { dryRun: true })).violations).toEqual([]);
    const d = await Promise.resolve(engine({ pinning: { required: true } }).evaluate(input(objectOf(DEPLOYMENT, compliantSpec()), { checkPinned: true }), deadline()));
    expect(d.violations.filter((v) => v.policy === 'pinning')).toEqual([]);
    const pinned = objectOf(POD, specWith((s) => (s.containers[0].image = `registry.example.com/team/app:1.4.2@${DIGEST}`)));
    const e = engine({ pinning: { required: true } }, { 'require-non-root-user': { action: 'deny' } });
    expect((await Promise.resolve(e.evaluate(input(pinned, { checkPinned: true }), deadline()))).allowed).toBe(true);
  });
});
