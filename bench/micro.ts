// Microbenchmarks of the hot path's pieces, in-process (no network, no TLS), on the bench build: the CPU cost of
// each step per review. Best of several batches, so a busy machine disturbs it less than a load test.
//   node --import ./bench/hooks.ts bench/micro.ts [--payload pod-10c]
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import fastJson from 'fast-json-stringify';
import { loadPayload, PAYLOADS, type PayloadName } from './payloads.js';
import { BENCH_BUILD } from './tools.js';

const { values } = parseArgs({ options: { payload: { type: 'string', default: 'pod-10c' } } });
const name = values.payload as PayloadName;
if (!(PAYLOADS as readonly string[]).includes(name)) throw new Error(`--payload: expected one of ${PAYLOADS.join(', ')}`);
if (!existsSync(join(BENCH_BUILD, 'src', 'cli', 'main.js'))) throw new Error(`expected the bench build in ${BENCH_BUILD}: run npm run bench once`);
const build = (p: string) => import(join(BENCH_BUILD, p));

const { scanJson, parseJsonBody, MAX_JSON_DEPTH } = await build('src/server/json.js');
const { decodeReview, encodeReview } = await build('src/admission/review.js');
const { createRuntime } = await build('src/cli/runtime.js');
const { createAdmissionMetrics } = await build('src/server/metrics.js');

const payload = loadPayload(name);
const text = payload.body;
const buf = Buffer.from(text);

// Microseconds per call: the best of `batches` batches of `n` calls.
async function time(label: string, n: number, fn: () => unknown, batches = 7): Promise<[string, number]> {
  for (let i = 0; i < Math.min(n, 200); i++) await fn();
  let best = Number.POSITIVE_INFINITY;
  for (let b = 0; b < batches; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1000 / n);
  }
  return [label, best];
}

const logger = pino({ level: 'silent' });
const runtime = await createRuntime({ logger, watch: false });
const fileLogger = pino({ level: 'info', base: { name: 'portcullis' } }, pino.destination({ dest: '/dev/null', sync: true }));
const metrics = createAdmissionMetrics(new Registry());
const review = decodeReview(JSON.parse(text));
const input = { group: review.group, kind: review.kind, operation: review.operation, object: review.object, namespace: review.namespace, forceAudit: false };
const decision = await runtime.engine.evaluate(input, { deadline: Date.now() + 10_000 });
const answer = encodeReview(review, decision);
const stringify = fastJson({
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    response: {
      type: 'object',
      properties: {
        uid: { type: 'string' },
        allowed: { type: 'boolean' },
        status: { type: 'object', properties: { code: { type: 'integer' }, reason: { type: 'string' }, message: { type: 'string' } } },
        warnings: { type: 'array', items: { type: 'string' } },
        auditAnnotations: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
  },
});

const rows: Array<[string, number]> = [];
const n = 2000;
rows.push(await time('buf.toString() (utf8 decode of the body)', n, () => buf.toString()));
rows.push(await time('JSON.parse(text)', n, () => JSON.parse(text)));
rows.push(await time('scanJson(body bytes) (src/server/json.ts)', n, () => scanJson(buf, MAX_JSON_DEPTH)));
rows.push(await time('parseJsonBody(body bytes) (scan + decode and parse without managedFields)', n, () => parseJsonBody(buf)));
const parsed = JSON.parse(text);
rows.push(await time('decodeReview(parsed)', n * 5, () => decodeReview(parsed)));
rows.push(await time('engine.evaluate (runtime, default config)', n, () => runtime.engine.evaluate(input, { deadline: Date.now() + 10_000 })));
rows.push(await time('deadline race: setTimeout + Promise.race + clearTimeout', n * 5, async () => {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('x')), 10_000);
    timer.unref();
  });
  try {
    return await Promise.race([Promise.resolve(decision), expired]);
  } finally {
    clearTimeout(timer);
  }
}));
rows.push(await time('metrics.observe', n * 5, () => metrics.observe(review.kind, review.operation, decision, 0.001)));
rows.push(await time('pino info "admission decision" (sync destination, like the default stdout)', n * 5, () =>
  fileLogger.info({ uid: review.uid, kind: review.kind, namespace: review.namespace, name: review.name, operation: review.operation, user: review.username, dryRun: review.dryRun, allowed: decision.allowed, violations: {}, durationMs: 1.234 }, 'admission decision'),
));
const asyncDest = pino.destination({ dest: '/dev/null', sync: false, minLength: 4096 });
const asyncLogger = pino({ level: 'info', base: { name: 'portcullis' } }, asyncDest);
await new Promise((r) => setTimeout(r, 100)); // let the destination open
let calls = 0;
rows.push(await time('pino info "admission decision" (async destination, minLength 4096)', n * 5, async () => {
  asyncLogger.info({ uid: review.uid, kind: review.kind, namespace: review.namespace, name: review.name, operation: review.operation, user: review.username, dryRun: review.dryRun, allowed: decision.allowed, violations: {}, durationMs: 1.234 }, 'admission decision');
  if (++calls % 64 === 0) await new Promise((r) => setImmediate(r)); // let the buffered writes go out, as the server's event loop would
}));
asyncDest.flushSync();
rows.push(await time('encodeReview + JSON.stringify', n * 5, () => JSON.stringify(encodeReview(review, decision))));
rows.push(await time('encodeReview + fast-json-stringify (response schema)', n * 5, () => stringify(encodeReview(review, decision))));
await runtime.close();

process.stdout.write(`In-process costs, ${name} (${payload.bytes} bytes, ${payload.source}), best of 7 batches; answer: ${JSON.stringify(answer).length} bytes\n\n`);
process.stdout.write('| step | µs per review |\n| --- | --- |\n');
for (const [label, us] of rows) process.stdout.write(`| ${label} | ${us.toFixed(2)} |\n`);
process.exit(0);
