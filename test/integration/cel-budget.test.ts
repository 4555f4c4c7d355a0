// A custom CEL rule that would run for minutes or build gigabytes is stopped by its budget: /validate answers
// with the policy's onError verdict, and the server goes on answering.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import { generatedTlsSource } from '../../src/server/tls.js';
import { createEngine } from '../../src/engine/evaluate.js';
import { configFromObject } from '../../src/config/load.js';
import { POLICY_IDS } from '../../policies/index.js';
import { KINDS, objectOf, reviewOf, specWith } from '../helpers/pods.js';

const RULES = [
  { id: 'quadratic', expression: 'container.env.all(a, container.env.all(b, a.name != b.name || a.value == b.value)) || true' },
  { id: 'growing', expression: "size(container.image.replace('a', container.image.replace('a', container.image))) > 0" },
  { id: 'lenient', onError: 'allow', expression: 'container.env.exists(a, container.env.exists(b, a.name + b.name == "never"))' },
];

let app: FastifyInstance;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-cel-budget-'));
  const config = configFromObject({
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'PortcullisConfig',
    policies: Object.fromEntries(POLICY_IDS.map((id) => [id, { action: 'off' }])),
    customPolicies: { policies: RULES.map(({ id, expression, onError }) => ({ id, title: id, ...(onError ? { onError } : {}), containerValidations: [{ expression, message: 'm', fix: 'f' }] })) },
  });
  const tls = generatedTlsSource(['127.0.0.1'], join(dir, 'certs'));
  ({ app } = await buildApp({ engine: createEngine({ config: () => config }), tls: tls.source, logger: pino({ level: 'silent' }), metrics: new Registry() }));
});

afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('custom CEL rules past their budget', () => {
  it('answer with onError for each policy, and the server stays up', async () => {
    const pod = objectOf(KINDS[0]!, specWith((s) => {
      s.containers[0].image = `${'a'.repeat(5000)}:1`;
      s.containers[0].env = Array.from({ length: 3000 }, (_, i) => ({ name: `V${i}`, value: 'x' }));
    }));
    const res = await app.inject({ method: 'POST', url: '/validate', payload: reviewOf(pod) });
    expect(res.statusCode).toBe(200);
    const answer = res.json<{ response: { allowed: boolean; status?: { message?: string } } }>().response;
    expect(answer.allowed).toBe(false);
    const message = answer.status?.message ?? '';
    expect(message).toMatch(/\[quadratic\][^\n]*exceeded its cost budget/);
    expect(message).toMatch(/\[growing\][^\n]*exceeded its allocation budget/);
    expect(message).not.toContain('[lenient]');
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ok = await app.inject({ method: 'POST', url: '/validate', payload: reviewOf(objectOf(KINDS[0]!, specWith(() => undefined))) });
    expect(ok.json<{ response: { allowed: boolean } }>().response.allowed).toBe(true);
  });
});
