import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseReference } from '../images/reference.js';
import { PINNED_ANNOTATION, pinPatch } from './patch.js';
import type { ImagePin } from './patch.js';
import { applyPatch } from '../../test/helpers/json-patch.js';

const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;

const pod = (annotations?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: 'web-', ...(annotations ? { annotations } : {}) },
  spec: {
    initContainers: [{ name: 'init', image: 'busybox:1.36' }],
    containers: [{ name: 'app', image: 'registry.example.com/team/app:1.4.2' }, { name: 'side', image: 'envoy@' + D2 }],
  },
});

const pins: ImagePin[] = [
  { list: 'initContainers', index: 0, name: 'init', image: 'busybox:1.36', digest: D1 },
  { list: 'containers', index: 0, name: 'app', image: 'registry.example.com/team/app:1.4.2', digest: D2 },
];

describe('pinPatch', () => {
  it('pins each image in place, keeping the tag, and records what it pinned', () => {
    const out = applyPatch(pod(), pinPatch(pod(), pins, true));
    expect(out.spec.initContainers[0]!.image).toBe(`busybox:1.36@${D1}`);
    expect(out.spec.containers[0]!.image).toBe(`registry.example.com/team/app:1.4.2@${D2}`);
    expect(out.spec.containers[1]!.image).toBe(`envoy@${D2}`);
    expect((out.metadata as { annotations: Record<string, string> }).annotations[PINNED_ANNOTATION]).toBe(`init=${D1},app=${D2}`);
  });

  it('adds to existing annotations and merges the entries of an earlier invocation', () => {
    const before = pod({ team: 'web', [PINNED_ANNOTATION]: `init=${D1}` });
    const out = applyPatch(before, pinPatch(before, pins.slice(1), true));
    expect(out.metadata.annotations).toEqual({ team: 'web', [PINNED_ANNOTATION]: `init=${D1},app=${D2}` });
  });

  it('leaves annotations alone when asked to (the ephemeralcontainers subresource keeps only containers)', () => {
    const ops = pinPatch(pod(), pins, false);
    expect(ops.every((o) => o.path.startsWith('/spec/'))).toBe(true);
  });

  it('answers no operations for no pins', () => {
    expect(pinPatch(pod(), [], true)).toEqual([]);
  });

  it('yields a pod whose images all parse and carry the pinned digest, for any pod and pins', () => {
    const tag = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/);
    const repo = fc.stringMatching(/^[a-z0-9]{1,10}(\/[a-z0-9]{1,10}){0,2}$/);
    const image = fc.tuple(fc.constantFrom('', 'registry.example.com:5000/', 'localhost/'), repo, fc.option(tag, { nil: undefined })).map(([h, r, t]) => `${h}${r}${t ? `:${t}` : ''}`);
    const container = fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), image);
    fc.assert(
      fc.property(fc.array(container, { minLength: 1, maxLength: 20 }), fc.array(container, { maxLength: 5 }), fc.boolean(), fc.stringMatching(/^[0-9a-f]{64}$/), (cs, inits, annotated, hex) => {
        const digest = `sha256:${hex.toLowerCase()}`;
        const object = {
          metadata: annotated ? { annotations: { a: 'b' } } : {},
          spec: { containers: cs.map(([name, img], i) => ({ name: `${name}${i}`, image: img })), initContainers: inits.map(([name, img], i) => ({ name: `i${name}${i}`, image: img })) },
        };
        const all: ImagePin[] = [
          ...object.spec.containers.map((c, index) => ({ list: 'containers' as const, index, name: c.name, image: c.image, digest })),
          ...object.spec.initContainers.map((c, index) => ({ list: 'initContainers' as const, index, name: c.name, image: c.image, digest })),
        ];
        const out = applyPatch(object, pinPatch(object, all, true));
        for (const c of [...out.spec.containers, ...out.spec.initContainers]) expect(parseReference(c.image).digest).toBe(digest);
      }),
      { numRuns: 300 },
    );
  });
});
