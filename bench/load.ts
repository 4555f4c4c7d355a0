// The load generators: wrk for closed loop (as fast as the server answers on C keep-alive connections) and
// vegeta for open loop (requests sent at a fixed rate whatever the server does, so slow answers cannot slow the
// arrivals down). Both speak HTTPS/1.1 with keep-alive here; latencies are in microseconds.
import { createReadStream, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { run as runCommand, type RunResult } from '../test/e2e/proc.js';
import type { Certs } from './targets.js';
import { REPO_ROOT } from './tools.js';

export interface LoadResult {
  /** responses received */
  requests: number;
  seconds: number;
  /** responses per second */
  rps: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  meanUs: number;
  /** connection errors, timeouts and non-2xx answers */
  errors: number;
  /** what was asked for in open loop */
  targetRate?: number;
}

export interface Pinning {
  /** prefix for the load generator's command line, e.g. ['taskset', '-c', '1'] */
  readonly loadgen: readonly string[];
}

/** What every bench section gets from the runner (bench/run.ts `common`). */
export interface SectionOptions {
  readonly quick: boolean;
  readonly wrk: string;
  readonly certs: Certs;
  readonly workDir: string;
  readonly serverPin: readonly string[];
  readonly pin: Pinning;
  readonly log: (msg: string) => void;
  /** node flags for portcullis */
  readonly nodeArgs?: readonly string[];
}

function split(cmd: readonly string[], rest: readonly string[]): [string, string[]] {
  const all = [...cmd, ...rest];
  return [all[0] as string, all.slice(1)];
}

interface WrkJson {
  requests: number;
  duration_us: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50_us: number;
  p99_us: number;
  p999_us: number;
  max_us: number;
  mean_us: number;
}

function parseWrk(run: RunResult, what: string): LoadResult {
  const line = run.stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`${what}: expected wrk's summary line, got exit ${run.code}:\n${run.stdout}\n${run.stderr}`);
  const j = JSON.parse(line.slice('BENCH_JSON '.length)) as WrkJson;
  const seconds = j.duration_us / 1e6;
  return {
    requests: j.requests,
    seconds,
    rps: j.requests / seconds,
    p50Us: j.p50_us,
    p99Us: j.p99_us,
    p999Us: j.p999_us,
    maxUs: j.max_us,
    meanUs: j.mean_us,
    errors: j.connect + j.read + j.write + j.status + j.timeout,
  };
}

export interface ClosedLoopOptions {
  readonly wrk: string;
  readonly url: string;
  /** the request body (JSON) */
  readonly body: string;
  readonly connections: number;
  readonly seconds: number;
  readonly pin: Pinning;
  readonly workDir: string;
}

// Runs wrk with one thread and `connections` keep-alive connections for `seconds`, driven by a script in
// bench/wrk/ that reads the request body from the file BENCH_BODY (written here from `body`) and loads the shared
// reporter from BENCH_WRK_DIR.
async function runWrk(o: ClosedLoopOptions, script: string, requestTimeout: string, extraEnv: Record<string, string>, label: string): Promise<LoadResult> {
  const bodyFile = join(o.workDir, `body-${process.pid}-${Date.now()}.json`);
  writeFileSync(bodyFile, o.body);
  try {
    const dir = join(REPO_ROOT, 'bench', 'wrk');
    const [cmd, args] = split(o.pin.loadgen, [o.wrk, '-t1', `-c${o.connections}`, `-d${o.seconds}s`, '--timeout', requestTimeout, '-s', join(dir, script), o.url]);
    const run = await runCommand(cmd, args, { env: { ...process.env, BENCH_BODY: bodyFile, BENCH_WRK_DIR: dir, ...extraEnv }, timeoutMs: (o.seconds + 30) * 1000 });
    return parseWrk(run, `${label} ${o.url}`);
  } finally {
    rmSync(bodyFile, { force: true });
  }
}

// Closed loop with wrk: one thread, `connections` keep-alive connections, each sending as soon as it has an answer.
export function closedLoop(o: ClosedLoopOptions): Promise<LoadResult> {
  return runWrk(o, 'post.lua', '5s', {}, 'wrk');
}

export interface ImageLoopOptions extends Omit<ClosedLoopOptions, 'body'> {
  /** a review body holding the placeholder __IMAGE__ */
  readonly template: string;
  /** references are `${prefix}${n % images (5 digits)}:1.0` */
  readonly prefix: string;
  readonly images: number;
  /** the first request uses image number offset % images */
  readonly offset: number;
}

// Closed loop over many distinct images (bench/wrk/images.lua) for `seconds`.
export function imageLoop(o: ImageLoopOptions): Promise<LoadResult> {
  const env = { BENCH_IMAGES: String(o.images), BENCH_IMAGE_PREFIX: o.prefix, BENCH_OFFSET: String(o.offset) };
  return runWrk({ ...o, body: o.template }, 'images.lua', '10s', env, 'wrk (images)');
}

export interface OpenLoopOptions {
  readonly vegeta: string;
  readonly url: string;
  readonly body: string;
  /** requests per second */
  readonly rate: number;
  /** measured seconds */
  readonly seconds: number;
  /** seconds sent first at the same rate on the same connections and not counted (handshakes, JIT) */
  readonly warmSeconds?: number;
  readonly pin: Pinning;
  readonly workDir: string;
  /** HTTP/2 (what kube-apiserver uses) instead of HTTP/1.1 */
  readonly http2?: boolean;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

// Open loop with vegeta: `rate` requests per second for `seconds`, new connections opened as needed.
export async function openLoop(o: OpenLoopOptions): Promise<LoadResult> {
  const stamp = `${process.pid}-${Date.now()}`;
  const bodyFile = join(o.workDir, `body-${stamp}.json`);
  const resultsFile = join(o.workDir, `vegeta-${stamp}.bin`);
  const csvFile = join(o.workDir, `vegeta-${stamp}.csv`);
  const targetsFile = join(o.workDir, `targets-${stamp}.txt`);
  writeFileSync(bodyFile, o.body);
  writeFileSync(targetsFile, `POST ${o.url}\nContent-Type: application/json\nAccept: application/json\n@${bodyFile}\n`);
  try {
    const [cmd, args] = split(o.pin.loadgen, [
      o.vegeta, 'attack', `-targets=${targetsFile}`, `-rate=${o.rate}/s`, `-duration=${o.seconds + (o.warmSeconds ?? 0)}s`, '-insecure', '-keepalive=true',
      `-http2=${o.http2 === true}`, '-timeout=10s', '-workers=16', '-max-workers=512', `-output=${resultsFile}`,
    ]);
    const attack = await runCommand(cmd, args, { timeoutMs: (o.seconds + (o.warmSeconds ?? 0) + 40) * 1000 });
    if (attack.code !== 0) throw new Error(`vegeta attack: exit ${attack.code}: ${attack.stderr}`);
    const encode = await runCommand(o.vegeta, ['encode', '-to=csv', `-output=${csvFile}`, resultsFile], { timeoutMs: 120_000 });
    if (encode.code !== 0) throw new Error(`vegeta encode: exit ${encode.code}: ${encode.stderr}`);
    // columns: timestamp(ns), code, latency(ns), bytes out, bytes in, error, body(base64), ...; read line by line
    // (with response bodies the file can pass the longest string V8 allows), keeping the first three columns
    const rows: Array<[number, number, number]> = [];
    for await (const line of createInterface({ input: createReadStream(csvFile), crlfDelay: Number.POSITIVE_INFINITY })) {
      const a = line.indexOf(',');
      const b = line.indexOf(',', a + 1);
      const c = line.indexOf(',', b + 1);
      if (a > 0 && b > a && c > b) rows.push([Number(line.slice(0, a)), Number(line.slice(a + 1, b)), Number(line.slice(b + 1, c))]);
    }
    const t0 = rows.reduce((min, r) => Math.min(min, r[0]), Number.POSITIVE_INFINITY);
    const from = t0 + (o.warmSeconds ?? 0) * 1e9;
    const lines = rows.filter((r) => r[0] >= from);
    const latencies: number[] = [];
    let errors = 0;
    let first = Number.POSITIVE_INFINITY;
    let last = 0;
    for (const [ts, code, latencyNs] of lines) {
      if (code < 200 || code > 299) errors++;
      latencies.push(latencyNs / 1000);
      first = Math.min(first, ts);
      last = Math.max(last, ts + latencyNs);
    }
    const sorted = Float64Array.from(latencies).sort();
    const seconds = lines.length > 0 ? (last - first) / 1e9 : 0;
    const ok = lines.length - errors;
    return {
      requests: lines.length,
      seconds,
      rps: seconds > 0 ? ok / seconds : 0,
      p50Us: percentile(sorted, 50),
      p99Us: percentile(sorted, 99),
      p999Us: percentile(sorted, 99.9),
      maxUs: sorted.length ? (sorted[sorted.length - 1] as number) : 0,
      meanUs: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : 0,
      errors,
      targetRate: o.rate,
    };
  } finally {
    for (const f of [bodyFile, resultsFile, csvFile, targetsFile]) rmSync(f, { force: true });
  }
}
