// Property-based robustness of POST /validate: mutated AdmissionReviews never cause a 5xx or a malformed answer.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import { generatedTlsSource } from '../../src/server/tls.js';
import { createEngine } from '../../src/engine/evaluate.js';
import { loadConfigFile } from '../../src/config/store.js';
import { KINDS, compliantSpec, objectOf, reviewOf, specWith } from '../helpers/pods.js';
import { NO_FACTS } from '../../src/engine/facts.js';
import { parseReference } from '../../src/images/reference.js';
import { applyPatch } from '../helpers/json-patch.js';
import { sha256 } from '../helpers/registry-hostile.js';
import type { Json } from '../helpers/pods.js';

let app: FastifyInstance;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-fuzz-'));
  const config = loadConfigFile(undefined);
  // every tag resolves to a digest made from its text, so /mutate pins whatever parses
  const engine = createEngine({ config: () => config, facts: { gather: async () => ({ ...NO_FACTS, digest: (image) => ({ status: 'ok', digest: sha256(image) }) }) } });
  const tls = generatedTlsSource(['127.0.0.1'], join(dir, 'certs'));
  ({ app } = await buildApp({ engine, tls: tls.source, logger: pino({ level: 'silent' }), metrics: new Registry() }));
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: unknown;
}

async function post(payload: string | Buffer, contentType = 'application/json', url = '/validate'): Promise<Answer> {
  const res = await app.inject({ method: 'POST', url, payload, headers: { 'content-type': contentType } });
  let body: unknown;
  try {
    body = res.json();
  } catch {
    body = res.body;
  }
  return { status: res.statusCode, body };
}

const postJson = (value: unknown, url?: string): Promise<Answer> => post(JSON.stringify(value), 'application/json', url);

/** Checks the shape every answer must have; returns a description of what is wrong, or undefined. */
function problemWith(sent: unknown, answer: Answer): string | undefined {
  const { status, body } = answer;
  if (status >= 500) return `status ${status}: ${JSON.stringify(body)}`;
  if (status >= 400) {
    if (typeof body !== 'object' || body === null || typeof (body as Json).code !== 'string') return `4xx without a JSON code: ${JSON.stringify(body)}`;
    return undefined;
  }
  if (status !== 200) return `unexpected status ${status}`;
  const req = (sent as Json).request as Json;
  const b = body as Json;
  if (b.apiVersion !== (sent as Json).apiVersion) return `apiVersion ${JSON.stringify(b.apiVersion)} != sent ${JSON.stringify((sent as Json).apiVersion)}`;
  if (b.kind !== 'AdmissionReview') return `kind ${JSON.stringify(b.kind)}`;
  const r = b.response as Json | undefined;
  if (!r || typeof r !== 'object') return 'no response';
  if (r.uid !== req.uid) return `uid ${JSON.stringify(r.uid)} != ${JSON.stringify(req.uid)}`;
  if (typeof r.allowed !== 'boolean') return `allowed ${JSON.stringify(r.allowed)}`;
  if (!r.allowed && (r.status?.code !== 403 || typeof r.status?.message !== 'string' || r.status.message === '')) return `denied without 403 status: ${JSON.stringify(r.status)}`;
  if (r.warnings !== undefined && !(Array.isArray(r.warnings) && r.warnings.every((w: unknown) => typeof w === 'string'))) return 'warnings not strings';
  return undefined;
}

// A valid review to start from: any pod-carrying kind, compliant or with a typical violation, CREATE or UPDATE.
const baseReview: fc.Arbitrary<Json> = fc
  .record({
    kind: fc.constantFrom(...KINDS),
    tweak: fc.constantFrom<Array<(s: Json) => void>>(
      () => undefined,
      (s) => void (s.securityContext.runAsUser = 0),
      (s) => void (s.containers[0].image = 'nginx'),
      (s) => void delete s.containers[0].securityContext,
      (s) => void (s.initContainers = [{ name: 'init', image: 'busybox:1.36' }]),
      (s) => void (s.os = { name: 'windows' }),
    ),
    operation: fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT'),
    namespace: fc.constantFrom('default', 'kube-system', 'team-a'),
    dryRun: fc.boolean(),
    apiVersion: fc.constantFrom('admission.k8s.io/v1', 'admission.k8s.io/v1beta1'),
  })
  .map(({ kind, tweak, operation, namespace, dryRun, apiVersion }) => {
    const object = objectOf(kind, specWith(tweak), 'fuzz', namespace);
    const review = reviewOf(object, { operation, dryRun, ...(operation === 'UPDATE' ? { oldObject: objectOf(kind, compliantSpec(), 'fuzz', namespace) } : {}) });
    return { ...review, apiVersion };
  });

/** Values that replace a field: random JSON, wrong types, odd strings, big strings, arrays for objects. */
const replacement: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, '', 0, -1, 1e308, true, false, [], {}, [[]], [{}], 'ALL', 'latest', 'admission.k8s.io/v2', 'AdmissionReview'),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.nat({ max: 20_000 }).map((n) => 'x'.repeat(n)),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 4 }),
);

type Op = 'drop' | 'replace' | 'retype' | 'arrayify' | 'duplicate';
interface Mutation {
  readonly path: readonly number[];
  readonly op: Op;
  readonly value: unknown;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  path: fc.array(fc.nat(), { minLength: 1, maxLength: 9 }),
  op: fc.constantFrom<Op>('drop', 'replace', 'retype', 'arrayify', 'duplicate'),
  value: replacement,
});

// Changes a value's type while keeping something of its content.
function retyped(v: unknown): unknown {
  if (typeof v === 'string') return v.length;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 0;
  if (Array.isArray(v)) return Object.fromEntries(v.map((x, i) => [String(i), x]));
  if (v && typeof v === 'object') return Object.values(v);
  return v === null ? {} : null;
}

// Walks the path (each step picks a key or index modulo the size) and applies the mutation at the end.
function apply(root: Json, m: Mutation): void {
  let parent: any = root;
  for (let depth = 0; depth < m.path.length; depth++) {
    const keys = Array.isArray(parent) ? parent.map((_, i) => i) : Object.keys(parent);
    if (keys.length === 0) return;
    const key = keys[m.path[depth]! % keys.length]!;
    const child = parent[key];
    const last = depth === m.path.length - 1 || child === null || typeof child !== 'object';
    if (!last) {
      parent = child;
      continue;
    }
    switch (m.op) {
      case 'drop':
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key];
        break;
      case 'replace':
        // a copy: fast-check's constants ([], {}, [{}]) are shared objects, and placing one inside itself makes a cycle
        parent[key] = structuredClone(m.value);
        break;
      case 'retype':
        parent[key] = retyped(child);
        break;
      case 'arrayify':
        parent[key] = [child];
        break;
      case 'duplicate':
        parent[key] = Array.isArray(child) ? [...child, ...child] : child;
        if (!Array.isArray(parent)) parent[`${String(key)}Extra`] = structuredClone(m.value);
        break;
    }
    return;
  }
}

// Reviews made from a base by mutations at every level: the review, its object, its top-level keys, its request's keys.
function mutatedFrom(base: fc.Arbitrary<Json>): fc.Arbitrary<unknown> {
  return fc.oneof(
  { weight: 12, arbitrary: fc.tuple(base, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([review, ms]) => {
    for (const m of ms) apply(review, m);
    return review;
  }) },
  { weight: 8, arbitrary: fc.tuple(base, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([review, ms]) => {
    for (const m of ms) apply(review.request.object, m);
    return review;
  }) },
  { weight: 2, arbitrary: fc.tuple(base, fc.constantFrom('apiVersion', 'kind', 'request'), replacement).map(([review, key, value]) => ({ ...review, [key]: structuredClone(value) })) },
  { weight: 2, arbitrary: fc.tuple(base, fc.constantFrom('uid', 'kind', 'operation', 'object', 'oldObject', 'dryRun', 'namespace', 'subResource', 'userInfo'), replacement).map(([review, key, value]) => ({ ...review, request: { ...review.request, [key]: structuredClone(value) } })) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: base },
);
}

const mutatedReview = mutatedFrom(baseReview);

// A created Pod, mostly, with any tweak: what /mutate pins.
const podReview: fc.Arbitrary<Json> = fc
  .record({ base: baseReview, operation: fc.constantFrom('CREATE', 'CREATE', 'CREATE', 'UPDATE'), dryRun: fc.constantFrom(false, false, false, true) })
  .map(({ base, operation, dryRun }) => {
    const object = { ...base.request.object, apiVersion: 'v1', kind: 'Pod', spec: base.request.object.spec?.template?.spec ?? base.request.object.spec?.jobTemplate?.spec?.template?.spec ?? base.request.object.spec };
    return { ...base, request: { ...reviewOf(object, { operation, dryRun }).request, oldObject: operation === 'UPDATE' ? object : null } };
  });

// What is wrong with a /mutate answer beyond its shape: a denial, or a patch that does not apply or leaves an image
// it pinned unparsable; undefined when all is well.
function patchProblem(sent: unknown, answer: Answer): string | undefined {
  if (answer.status !== 200) return undefined;
  const r = (answer.body as Json).response as Json;
  if (r.allowed !== true) return 'a /mutate answer that is not allowed';
  if (r.patch === undefined) return r.patchType === undefined ? undefined : 'patchType without a patch';
  if (r.patchType !== 'JSONPatch') return `patchType ${JSON.stringify(r.patchType)}`;
  const ops = JSON.parse(Buffer.from(r.patch as string, 'base64').toString('utf8')) as Array<{ op: string; path: string; value: unknown }>;
  let patched: Json;
  try {
    patched = applyPatch((sent as Json).request.object as Json, ops);
  } catch (err) {
    return `patch does not apply: ${(err as Error).message}`;
  }
  for (const op of ops.filter((o) => o.path.endsWith('/image'))) {
    const [, , list, index] = op.path.split('/');
    const image = (patched.spec as Json)[list as string][Number(index)].image as string;
    try {
      if (parseReference(image).digest === undefined) return `pinned image without a digest: ${image}`;
    } catch {
      return `pinned image does not parse: ${image}`;
    }
  }
  return undefined;
}

describe('POST /mutate under mutated input', () => {
  it('answers 3,000 mutated reviews with no 5xx, never a denial, and only patches that keep every pinned image valid', async () => {
    let patched = 0;
    await fc.assert(
      fc.asyncProperty(mutatedFrom(podReview), fc.constantFrom(false, false, false, true), async (review, audit) => {
        const answer = await postJson(review, audit ? '/mutate/audit' : '/mutate');
        const problem = problemWith(review, answer) ?? patchProblem(review, answer);
        if (problem) throw new Error(problem);
        if (((answer.body as Json)?.response as Json | undefined)?.patch) patched++;
      }),
      { numRuns: 3_000 },
    );
    console.log('fuzz /mutate answers with a patch', patched);
    expect(patched).toBeGreaterThan(100);
  });
});

describe('POST /validate under mutated input', () => {
  it('answers 10,000 mutated reviews with no 5xx and well-formed bodies', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(mutatedReview, fc.boolean(), async (review, audit) => {
        const answer = await postJson(review, audit ? '/validate/audit' : '/validate');
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const problem = problemWith(review, answer);
        if (problem) throw new Error(problem);
      }),
      { numRuns: 10_000 },
    );
    console.log('fuzz status counts', Object.fromEntries(statuses));
    // the mix exercises both the decision path and the rejection path
    expect(statuses.get(200) ?? 0).toBeGreaterThan(500);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(500);
  });

  it('refuses malformed JSON with 400 INVALID_JSON', async () => {
    const answer = await post('{"apiVersion": "admission.k8s.io/v1", "kind": ');
    expect(answer.status).toBe(400);
    expect((answer.body as Json).code).toBe('INVALID_JSON');
  });

  it('refuses a body that is not an AdmissionReview with 400 NOT_ADMISSION_REVIEW', async () => {
    for (const body of [{ apiVersion: 'v1', kind: 'Pod' }, [1, 2], 'review', 42, null]) {
      const answer = await postJson(body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect((answer.body as Json).code, JSON.stringify(body)).toBe('NOT_ADMISSION_REVIEW');
    }
  });

  it('refuses a review without request with 400 MISSING_REQUEST', async () => {
    const answer = await postJson({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
    expect(answer.status).toBe(400);
    expect((answer.body as Json).code).toBe('MISSING_REQUEST');
  });

  it('refuses a request without uid with 400 MISSING_UID', async () => {
    for (const uid of [undefined, null, '', 7]) {
      const review = reviewOf(objectOf(KINDS[0]!, compliantSpec()));
      review.request.uid = uid;
      const answer = await postJson(review);
      expect(answer.status, String(uid)).toBe(400);
      expect((answer.body as Json).code, String(uid)).toBe('MISSING_UID');
    }
  });

  it('refuses text/plain with 415', async () => {
    const answer = await post(JSON.stringify(reviewOf(objectOf(KINDS[0]!, compliantSpec()))), 'text/plain');
    expect(answer.status).toBe(415);
    expect(typeof (answer.body as Json).code).toBe('string');
  });

  it('refuses JSON nested 10,000 levels deep with 400 JSON_TOO_DEEP', async () => {
    const answer = await post(`${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    expect(answer.status).toBe(400);
    expect((answer.body as Json).code).toBe('JSON_TOO_DEEP');
    const inReview = await post(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`);
    expect(inReview.status).toBe(400);
    expect((inReview.body as Json).code).toBe('JSON_TOO_DEEP');
  });

  it('refuses a 5 MiB body with 413 (the limit is 4 MiB)', async () => {
    const review = reviewOf(objectOf(KINDS[0]!, compliantSpec()));
    review.request.object.metadata.annotations = { big: 'x'.repeat(5 * 1024 * 1024) };
    const answer = await postJson(review);
    expect(answer.status).toBe(413);
    expect(typeof (answer.body as Json).code).toBe('string');
  });

  it('keeps serving afterwards: a valid review gets 200', async () => {
    const review = reviewOf(objectOf(KINDS[3]!, compliantSpec()), { uid: 'after-fuzz' });
    const answer = await postJson(review);
    expect(answer.status).toBe(200);
    expect((answer.body as Json).response).toMatchObject({ uid: 'after-fuzz', allowed: true });
    const root = reviewOf(objectOf(KINDS[0]!, specWith((s) => void (s.securityContext.runAsUser = 0))), { uid: 'root-after-fuzz' });
    const denied = await postJson(root);
    expect(denied.status).toBe(200);
    expect((denied.body as Json).response).toMatchObject({ uid: 'root-after-fuzz', allowed: false, status: { code: 403 } });
  });
});
