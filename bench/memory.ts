// Memory and start-up (issue #8, part 4): RSS while admitting pods over many distinct images until the caches are
// full and long after, and the time from process start to /readyz 200.
import { imageLoop, type LoadResult, type Pinning } from './load.js';
import { sampleProc } from './procstat.js';
import { imagePodReview } from './payloads.js';
import { registryConfig, startFakeRegistry } from './images.js';
import { startNullWebhook, startPortcullis, type Certs, type Target } from './targets.js';

export interface MemoryResults {
  admissions: number;
  images: number;
  /** RSS (bytes) after /readyz, before any admission */
  idleRss: number;
  /** RSS after the first pass over every image (caches full) */
  filledRss: number;
  /** RSS at the end */
  endRss: number;
  /** highest RSS seen (VmHWM) */
  peakRss: number;
  /** [admissions so far, RSS] every checkpoint */
  curve: Array<[number, number]>;
  /** throughput of the long run */
  load: LoadResult;
  registryRequests: number;
}

export interface MemoryOptions {
  readonly quick: boolean;
  readonly wrk: string;
  readonly certs: Certs;
  readonly workDir: string;
  readonly serverPin: readonly string[];
  readonly pin: Pinning;
  readonly log: (msg: string) => void;
  /** admissions in total (default: 1,000,000; quick 20,000) */
  readonly admissions?: number;
  readonly images?: number;
}

export async function runMemory(o: MemoryOptions): Promise<MemoryResults> {
  const images = o.images ?? 10_000;
  const admissions = o.admissions ?? (o.quick ? 20_000 : 1_000_000);
  const registry = await startFakeRegistry(o.pin.loadgen);
  let target: Target | undefined;
  try {
    target = await startPortcullis({ workDir: o.workDir, certs: o.certs, pin: o.serverPin, config: registryConfig([registry.host]), label: 'portcullis (memory)' });
    const pid = target.pid;
    const rss = () => sampleProc(pid)?.rssBytes ?? 0;
    await new Promise((r) => setTimeout(r, 500));
    const idleRss = rss();
    const template = imagePodReview(['__IMAGE__'], 'bench-memory');
    const prefix = `${registry.host}/bench/mem-`;
    const common = { wrk: o.wrk, url: target.url, template, prefix, images, connections: 16, pin: o.pin, workDir: o.workDir };
    o.log(`memory: first pass over ${images} images`);
    await imageLoop({ ...common, count: images, maxSeconds: o.quick ? 60 : 300 });
    const filledRss = rss();
    const curve: Array<[number, number]> = [[0, idleRss], [images, filledRss]];
    const rest = Math.max(admissions - images, 0);
    const checkpoints = o.quick ? 2 : 10;
    const chunk = Math.ceil(rest / checkpoints);
    let done = images;
    let total: LoadResult | undefined;
    for (let c = 0; c < checkpoints && done < admissions; c++) {
      const count = Math.min(chunk, admissions - done);
      o.log(`memory: ${done} -> ${done + count} admissions`);
      const r = await imageLoop({ ...common, count, maxSeconds: o.quick ? 60 : 600 });
      done += r.requests;
      curve.push([done, rss()]);
      total = total
        ? { ...r, requests: total.requests + r.requests, seconds: total.seconds + r.seconds, rps: (total.requests + r.requests) / (total.seconds + r.seconds), errors: total.errors + r.errors, p99Us: Math.max(total.p99Us, r.p99Us), p999Us: Math.max(total.p999Us, r.p999Us), maxUs: Math.max(total.maxUs, r.maxUs) }
        : r;
    }
    const end = sampleProc(pid);
    const stats = await registry.stats();
    return {
      admissions: done,
      images,
      idleRss,
      filledRss,
      endRss: end?.rssBytes ?? 0,
      peakRss: end?.hwmBytes ?? 0,
      curve,
      load: total ?? { requests: 0, seconds: 0, rps: 0, p50Us: 0, p99Us: 0, p999Us: 0, maxUs: 0, meanUs: 0, errors: 0 },
      registryRequests: stats.total,
    };
  } finally {
    await target?.stop();
    await registry.stop();
  }
}

export interface StartupResults {
  portcullisMs: number[];
  nullMs: number[];
}

// Time from spawn to the first /readyz 200 (polled every 5 ms), with certificate files (no key generation).
export async function runStartup(o: { quick: boolean; certs: Certs; workDir: string; serverPin: readonly string[]; config: string; log: (m: string) => void }): Promise<StartupResults> {
  const n = o.quick ? 2 : 5;
  const portcullisMs: number[] = [];
  const nullMs: number[] = [];
  o.log(`start-up: ${n} starts each`);
  for (let i = 0; i < n; i++) {
    const p = await startPortcullis({ workDir: o.workDir, certs: o.certs, pin: o.serverPin, config: o.config, label: 'portcullis (start-up)' });
    portcullisMs.push(p.startupMs);
    await p.stop();
    const nw = await startNullWebhook({ workDir: o.workDir, certs: o.certs, pin: o.serverPin });
    nullMs.push(nw.startupMs);
    await nw.stop();
  }
  return { portcullisMs, nullMs };
}
