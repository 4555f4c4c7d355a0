// Hot-path experiments: patched copies of the bench build (node_modules/.cache/portcullis-bench/dist), each
// measured as server CPU time per review (steady even on a busy machine) plus throughput and p99, in interleaved
// rounds. The patches are string edits of the compiled JS: a patch that no longer applies is reported, not run.
//   node --import ./bench/hooks.ts bench/experiments.ts [--rounds N] [--seconds S] [--payload pod-10c] [--only a,b]
// Run `npm run bench -- --only startup` (or any bench run) first so the bench build exists.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { registryConfig } from './images.js';
import { median } from './client.js';
import { closedLoop } from './load.js';
import { loadPayload, PAYLOADS, type PayloadName } from './payloads.js';
import { startSampler } from './procstat.js';
import { startNullWebhook, startPortcullis, type Certs } from './targets.js';
import { BENCH_BUILD, CLI, REPO_ROOT, shippedRuntime, which } from './tools.js';

interface Patch {
  file: string;
  from: string;
  to: string;
}

interface Variant {
  name: string;
  what: string;
  patches: Patch[];
  logLevel?: string;
  nodeArgs?: string[];
  /** run the null webhook instead of portcullis (the ceiling, measured in the same rounds) */
  null?: boolean;
}

const RESPONSE_SCHEMA = `{ schema: { response: { 200: { type: 'object', properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, response: { type: 'object', properties: { uid: { type: 'string' }, allowed: { type: 'boolean' }, status: { type: 'object', properties: { code: { type: 'integer' }, reason: { type: 'string' }, message: { type: 'string' } } }, warnings: { type: 'array', items: { type: 'string' } }, auditAnnotations: { type: 'object', additionalProperties: { type: 'string' } } } } } } } } }`;
const RESPONSE: Patch[] = [
  { file: 'src/server/validate.js', from: "app.post('/validate', handle(false));", to: `app.post('/validate', ${RESPONSE_SCHEMA}, handle(false));` },
];

const SHIPPED_HEAP = [...shippedRuntime().nodeArgs];

// A variant that makes one string edit to one compiled file.
const patched = (name: string, what: string, file: string, from: string, to: string): Variant => ({ name, what, patches: [{ file, from, to }] });

// Every portcullis variant runs with the image's NODE_OPTIONS unless it names other flags; each one undoes or adds
// one change, so "vs baseline" is what that change costs or buys.
const VARIANTS: Variant[] = [
  { name: 'baseline', what: `the bench build as shipped (--log-level info, ${SHIPPED_HEAP.join(' ')})`, patches: [] },
  { name: 'null', what: 'the null webhook (bench/null-webhook.ts), no node flags', patches: [], null: true },
  { name: 'null-heap', what: `the null webhook with ${SHIPPED_HEAP.join(' ')}`, patches: [], null: true, nodeArgs: SHIPPED_HEAP },
  { name: 'no-flags', what: 'no node flags (V8 sizes its heap freely)', patches: [], nodeArgs: [] },
  { name: 'semi-2', what: '--max-old-space-size=96 --max-semi-space-size=2 (the flags before)', patches: [], nodeArgs: ['--max-old-space-size=96', '--max-semi-space-size=2'] },
  patched('keep-managed-fields', 'managedFields parsed like the rest (undoes the parser skipping them)', 'src/server/json.js', "JSON.parse(scan.skip.length > 0 ? withoutSkipped(body, scan.skip) : body.toString('utf8'))", "JSON.parse(body.toString('utf8'))"),
  patched('log-every-decision', 'clean decisions logged at info too (undoes logging them at debug)', 'src/server/validate.js', "!decision.allowed ? 'info' : 'debug'", "!decision.allowed ? 'info' : 'info'"),
  patched('async-decision', 'every decision through a promise raced with the deadline timer (undoes the synchronous path)', 'src/engine/evaluate.js', 'return judge(active, pod, NO_FACTS, novelty, audit);', 'return Promise.resolve(judge(active, pod, NO_FACTS, novelty, audit));'),
  { name: 'log-warn', what: '--log-level warn: no "admission decision" line at all', patches: [], logLevel: 'warn' },
  { name: 'response-schema', what: 'fastify response schema for 200 (fast-json-stringify instead of JSON.stringify)', patches: RESPONSE },
  patched('no-metrics', 'metrics.observe skipped (measures its cost)', 'src/server/validate.js', 'metrics.observe(review.kind, review.operation, decision, seconds);', ''),
  patched('no-child-logger', 'fastify childLoggerFactory returns the app logger (no per-request pino child)', 'src/server/app.js', 'loggerInstance: options.logger,', 'loggerInstance: options.logger, childLoggerFactory: (logger) => logger,'),
  patched('buffered-log', 'pino to a buffered asynchronous destination (4 KiB writes) instead of one write per line', 'src/cli/serve.js', "redact: ['req.headers.authorization'] });", "redact: ['req.headers.authorization'] }, pino.destination({ dest: 1, sync: false, minLength: 4096 }));"),
  { name: 'combined', what: 'response-schema + log-warn', patches: [...RESPONSE], logLevel: 'warn' },
];

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
    payload: { type: 'string', default: 'pod-10c' },
    only: { type: 'string' },
  },
});
const payloadName = values.payload as PayloadName;
if (!(PAYLOADS as readonly string[]).includes(payloadName)) throw new Error(`--payload: expected one of ${PAYLOADS.join(', ')}`);
if (!existsSync(join(BENCH_BUILD, 'src', 'cli', 'main.js'))) throw new Error(`expected the bench build in ${BENCH_BUILD}: run npm run bench once`);
const wrk = which('wrk');
if (!wrk) throw new Error('wrk not found');
const only = values.only ? new Set(values.only.split(',')) : undefined;
const variants = VARIANTS.filter((v) => !only || only.has(v.name) || v.name === 'baseline');
const log = (m: string) => process.stderr.write(`[experiments] ${m}\n`);

const workDir = mkdtempSync(join(tmpdir(), 'portcullis-exp-'));
const pinned = which('taskset') !== undefined && cpus().length >= 2;
const serverPin = pinned ? ['taskset', '-c', '0'] : [];
const pin = { loadgen: pinned ? ['taskset', '-c', '1'] : [] };
execFileSync(process.execPath, [CLI, 'cert', '--out-dir', join(workDir, 'certs'), '--san', '127.0.0.1'], { stdio: 'pipe' });
const certs: Certs = { dir: join(workDir, 'certs'), cert: join(workDir, 'certs', 'tls.crt'), key: join(workDir, 'certs', 'tls.key'), ca: readFileSync(join(workDir, 'certs', 'ca.crt'), 'utf8') };
const body = loadPayload(payloadName).body;

// Copies the bench build next to it (so node_modules still resolve) and applies the variant's patches.
const builds = new Map<string, string>();
const skipped: string[] = [];
for (const v of variants) {
  const dir = join(REPO_ROOT, 'node_modules', '.cache', 'portcullis-bench', `exp-${v.name}`);
  rmSync(dir, { recursive: true, force: true });
  cpSync(BENCH_BUILD, dir, { recursive: true });
  let ok = true;
  for (const p of v.patches) {
    const file = join(dir, p.file);
    const text = readFileSync(file, 'utf8');
    if (!text.includes(p.from)) {
      ok = false;
      skipped.push(`${v.name}: patch no longer applies to ${p.file}`);
      break;
    }
    writeFileSync(file, text.replace(p.from, p.to));
  }
  if (ok) builds.set(v.name, join(dir, 'src', 'cli', 'main.js'));
}

const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const samples = new Map<string, Array<{ cpuUs: number; rps: number; p99Us: number }>>();
for (let r = 0; r < rounds; r++) {
  for (const v of variants) {
    const cli = builds.get(v.name);
    if (!cli) continue;
    const target = v.null
      ? await startNullWebhook({ workDir, certs, pin: serverPin, nodeArgs: v.nodeArgs ?? [] })
      : await startPortcullis({ workDir, certs, pin: serverPin, config: registryConfig([]), cli, logLevel: v.logLevel ?? 'info', nodeArgs: v.nodeArgs ?? SHIPPED_HEAP, label: v.name });
    try {
      await closedLoop({ wrk, url: target.url, body, connections: Number(values.connections), seconds: 2, pin, workDir });
      const sampler = startSampler(target.pid);
      const load = await closedLoop({ wrk, url: target.url, body, connections: Number(values.connections), seconds, pin, workDir });
      const usage = sampler.stop();
      const cpuUs = ((usage.cpuPercent / 100) * load.seconds * 1e6) / Math.max(load.requests, 1);
      const list = samples.get(v.name) ?? [];
      list.push({ cpuUs, rps: load.rps, p99Us: load.p99Us });
      samples.set(v.name, list);
      log(`round ${r + 1}/${rounds} ${v.name}: ${cpuUs.toFixed(0)} µs CPU/review, ${load.rps.toFixed(0)}/s, p99 ${(load.p99Us / 1000).toFixed(2)} ms, errors ${load.errors}`);
    } finally {
      await target.stop();
    }
  }
}

const commit = () => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
};
const base = median((samples.get('baseline') ?? []).map((s) => s.cpuUs));
const lines = [
  `Hot-path experiments: ${payloadName} (${loadPayload(payloadName).bytes} bytes), wrk ${values.connections} connections, ${seconds} s x ${rounds} rounds, medians; ${new Date().toISOString()}, commit ${commit()}`,
  '',
  `Generated by \`node --import ./bench/hooks.ts bench/experiments.ts ${process.argv.slice(2).join(' ')}\` (servers on CPU 0, wrk on CPU 1; MALLOC_ARENA_MAX as in the Dockerfile for every portcullis).`,
  '',
  '| variant | CPU µs/review | vs baseline | reviews/s | p99 ms | what |',
  '| --- | --- | --- | --- | --- | --- |',
];
for (const v of variants) {
  const s = samples.get(v.name);
  if (!s) continue;
  const cpu = median(s.map((x) => x.cpuUs));
  lines.push(`| ${v.name} | ${cpu.toFixed(0)} | ${base ? `${(((cpu - base) / base) * 100).toFixed(1)}%` : '-'} | ${median(s.map((x) => x.rps)).toFixed(0)} | ${(median(s.map((x) => x.p99Us)) / 1000).toFixed(2)} | ${v.what} |`);
}
for (const s of skipped) lines.push(`\n- skipped: ${s}`);
process.stdout.write(`${lines.join('\n')}\n`);
rmSync(workDir, { recursive: true, force: true });
process.exit(0);
