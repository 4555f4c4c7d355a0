// Refused requests: each 4xx of /validate is counted by code, named by its status, and answered over HTTP/2
// without Node's "connection header is not valid" warning.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import { generatedTlsSource } from '../../src/server/tls.js';
import { createEngine } from '../../src/engine/evaluate.js';
import { loadConfigFile } from '../../src/config/store.js';

let app: FastifyInstance;
let dir: string;
let caPem: string;
let port: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-bad-requests-'));
  const config = loadConfigFile(undefined);
  const tls = generatedTlsSource(['127.0.0.1'], join(dir, 'certs'));
  caPem = tls.ca.certPem;
  ({ app } = await buildApp({ engine: createEngine({ config: () => config }), tls: tls.source, logger: pino({ level: 'silent' }), metrics: new Registry() }));
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  port = Number(new URL(address).port);
});

afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function badRequests(): Promise<Record<string, number>> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/^portcullis_admission_bad_requests_total\{code="([^"]+)"\} (\d+)$/gm)) counts[m[1]!] = Number(m[2]);
  return counts;
}

// POSTs over HTTP/2 with TLS, as the API server does.
function postHttp2(body: string, contentType: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const session = connect(`https://127.0.0.1:${port}`, { ca: caPem });
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': '/validate', 'content-type': contentType });
    let status = 0;
    let text = '';
    req.on('response', (headers) => (status = Number(headers[':status'])));
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      session.close();
      resolve({ status, body: text });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('refused requests to /validate', () => {
  it('counts INVALID_JSON, JSON_TOO_DEEP and 415 answers in portcullis_admission_bad_requests_total', async () => {
    const before = await badRequests();
    await app.inject({ method: 'POST', url: '/validate', payload: '{"kind": ', headers: { 'content-type': 'application/json' } });
    await app.inject({ method: 'POST', url: '/validate', payload: `${'['.repeat(500)}${']'.repeat(500)}`, headers: { 'content-type': 'application/json' } });
    await app.inject({ method: 'POST', url: '/validate/audit', payload: '{}', headers: { 'content-type': 'text/plain' } });
    const after = await badRequests();
    const delta = (code: string) => (after[code] ?? 0) - (before[code] ?? 0);
    expect([delta('INVALID_JSON'), delta('JSON_TOO_DEEP'), delta('UNSUPPORTED_MEDIA_TYPE')]).toEqual([1, 1, 1]);
  });

  it('names a 415 "Unsupported Media Type", not "Bad Request"', async () => {
    const res = await app.inject({ method: 'POST', url: '/validate', payload: '{}', headers: { 'content-type': 'text/plain' } });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ error: 'Unsupported Media Type', code: 'UNSUPPORTED_MEDIA_TYPE' });
    const invalid = await app.inject({ method: 'POST', url: '/validate', payload: '{', headers: { 'content-type': 'application/json' } });
    expect(invalid.json()).toMatchObject({ error: 'Bad Request', code: 'INVALID_JSON' });
  });

  it('answers invalid JSON over HTTP/2 without a connection-header warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const answer = await postHttp2('{"apiVersion": ', 'application/json');
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'INVALID_JSON' });
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
  });
});
