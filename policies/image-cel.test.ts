// The image reference in CEL (the fail-safe's reading of container.image) agrees with src/images/reference.ts on
// validity, tag, digest and normalized registry/repository: hand-picked references and generated strings.
import { CelScalar } from '@bufbuild/cel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileCel, CONTAINER_VARIABLES } from '../src/custom/cel-program.js';
import { celValue } from '../src/custom/cel-values.js';
import { ImageReferenceError, referenceOf } from '../src/images/reference.js';
import { IMAGE_HAS_DIGEST, IMAGE_REPOSITORY, IMAGE_TAG_PART, IMAGE_VALID } from './image-cel.js';

const DIGEST = 'sha256:3f1c4a3e0f0b8d4f2c9d8b7a6e5f4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3';
const PICKED = [
  'nginx', 'nginx:1.27', 'nginx:latest', `nginx@${DIGEST}`, `nginx:latest@${DIGEST}`, 'library/nginx', 'docker.io/nginx',
  'index.docker.io/nginx:1', 'docker.io/library/nginx', 'bitnami/redis:7', 'ghcr.io/org/app:1.0', 'localhost/app',
  'localhost:5000/app:v1', 'registry.example.com:5000/team/app', '127.0.0.1:5000/a/b/c:t', '[::1]:5000/app:1',
  'Registry.Example.com/app:1', 'Registry.Example.com/App:1', 'team/App:1', 'Nginx', 'Nginx:1.0', '', 'nginx:', 'nginx:-tag',
  'nginx:1 ', '-nginx', 'a//b', 'a__b/c--d.e:tag_1.0-x', 'nginx@sha256:abc', `nginx@sha512:${'a'.repeat(128)}`,
  `nginx@sha256:${'A'.repeat(64)}`, `nginx@md5:${'a'.repeat(32)}`, 'a_b.c/x', 'foo/bar:baz@', `${'a'.repeat(256)}:1`,
  `${'a'.repeat(255)}:1`, 'my-registry.io:443/org/team/app:2024.01', 'app:latest-2024', 'mcr.microsoft.com/windows/servercore',
];

const program = (source: string, type: typeof CelScalar.BOOL | typeof CelScalar.STRING) => compileCel(source, CONTAINER_VARIABLES, type);
const valid = program(IMAGE_VALID, CelScalar.BOOL);
const digest = program(IMAGE_HAS_DIGEST, CelScalar.BOOL);
const tag = program(IMAGE_TAG_PART, CelScalar.STRING);
const repository = program(IMAGE_REPOSITORY, CelScalar.STRING);

// What the CEL reads from an image, in the engine's terms.
function celReading(image: string): unknown {
  const bindings = { object: null, oldObject: null, request: null, params: null, pod: null, image: null, container: celValue({ name: 'app', image }) };
  const run = (p: typeof valid) => {
    const out = p.run(bindings);
    if (!out.ok) throw new Error(`${p.source.slice(0, 60)}… on ${JSON.stringify(image)}: ${out.error}`);
    return out.value;
  };
  if (run(valid) !== true) return 'invalid';
  const t = run(tag) as string;
  return { repository: run(repository), ...(t ? { tag: t.slice(1) } : {}), digest: run(digest) };
}

function engineReading(image: string): unknown {
  const ref = referenceOf(image);
  if (ref instanceof ImageReferenceError) return 'invalid';
  return { repository: `${ref.registry}/${ref.repository}`, ...(ref.tag !== undefined ? { tag: ref.tag } : {}), digest: ref.digest !== undefined };
}

describe('image references in CEL', () => {
  it.each(PICKED)('reads %j as the engine does', (image) => {
    expect(celReading(image)).toEqual(engineReading(image));
  });

  it('reads generated references as the engine does', () => {
    const part = fc.stringMatching(/^[a-zA-Z0-9._:@/-]{0,12}$/);
    const image = fc.oneof(
      fc.tuple(fc.constantFrom('', 'docker.io/', 'Localhost/', 'localhost:5000/', 'reg.io/', 'index.docker.io/', 'a_b.c/'), part, fc.constantFrom('', ':v1', ':latest', `@${DIGEST}`, `:1@${DIGEST}`)).map(([a, b, c]) => `${a}${b}${c}`),
      fc.string({ maxLength: 30 }),
    );
    fc.assert(fc.property(image, (s) => {
      expect(celReading(s)).toEqual(engineReading(s));
    }), { numRuns: 2000 });
  });
});
