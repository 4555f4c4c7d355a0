// A review's parsed body is let go once decoded: the request object lives on with its keep-alive connection, and a
// body held that long is promoted to the old generation under load (bench/RESULTS.md, policy count).
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import { generatedTlsSource } from '../../src/server/tls.js';
import { createEngine } from '../../src/engine/evaluate.js';
import { loadConfigFile } from '../../src/config/store.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KINDS, objectOf, reviewOf, specWith } from '../helpers/pods.js';

let app: FastifyInstance;
let dir: string;
const bodies: Array<{ url: string; body: unknown }> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-body-release-'));
  const config = loadConfigFile(undefined);
  const tls = generatedTlsSource(['127.0.0.1'], join(dir, 'certs'));
  ({ app } = await buildApp({ engine: createEngine({ config: () => config }), tls: tls.source, logger: pino({ level: 'silent' }), metrics: new Registry() }));
  app.addHook('onResponse', async (request) => void bodies.push({ url: request.url, body: request.body }));
});

afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('request bodies', () => {
  it.each(['/validate', '/validate/audit', '/mutate'])('%s answers the review and leaves no body on the request', async (url) => {
    const review = reviewOf(objectOf(KINDS[0]!, specWith((s) => void (s.containers[0].image += `@sha256:${'ab'.repeat(32)}`)), 'pod'));
    const res = await app.inject({ method: 'POST', url, payload: review });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ response: { uid: string } }>().response.uid).toBe(review.request.uid);
    expect(bodies.find((b) => b.url === url)).toEqual({ url, body: undefined });
  });
});
