// Memory and start-up (issue #8, part 4): RSS while admitting pods over many distinct images until the caches are
// full and long after, and the time from process start to /readyz 200.
import { imageLoop, type LoadResult, type SectionOptions } from './load.js';
import { sampleProc } from './procstat.js';
import { imagePodReview } from './payloads.js';
import { registryConfig, startFakeRegistry } from './images.js';
import { getText, startNullWebhook, startPortcullis, type Target } from './targets.js';

export interface HeapStats {
  heapUsed: number;
  heapTotal: number;
  external: number;
}

// The V8 heap as portcullis's own /metrics reports it (prom-client's default Node.js metrics).
async function heapOf(target: Target, ca: string): Promise<HeapStats | undefined> {
  const text = await getText(`${target.base}/metrics`, ca);
  const value = (name: string) => Number(new RegExp(`^portcullis_nodejs_${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  const h = { heapUsed: value('heap_size_used_bytes'), heapTotal: value('heap_size_total_bytes'), external: value('external_memory_bytes') };
  return Number.isNaN(h.heapUsed) ? undefined : h;
}

export interface MemoryResults {
  admissions: number;
  images: number;
  /** RSS (bytes) after /readyz, before any admission */
  idleRss: number;
  /** RSS once every image has been seen (caches full); 0 when the run ended before */
  filledRss: number;
  /** RSS at the end */
  endRss: number;
  /** highest RSS seen (VmHWM) */
  peakRss: number;
  /** [admissions so far, RSS] every checkpoint */
  curve: Array<[number, number]>;
  /** [admissions so far, V8 heap used] every checkpoint (from /metrics) */
  heapCurve: Array<[number, number]>;
  /** every admission named a new image */
  distinct: boolean;
  /** throughput of the long run */
  load: LoadResult;
  registryRequests: number;
  /** V8 heap at the end, from /metrics */
  heap?: HeapStats;
}

export interface MemoryOptions extends SectionOptions {
  /** admissions in total (default: 1,000,000; quick 20,000) */
  readonly admissions?: number;
  readonly images?: number;
  /** every admission names a new image (images = admissions): nothing is ever answered from the caches */
  readonly distinct?: boolean;
}

export async function runMemory(o: MemoryOptions): Promise<MemoryResults> {
  const admissions = o.admissions ?? (o.quick ? 20_000 : 1_000_000);
  // distinct: image numbers never wrap (the wrk script takes them modulo `images`)
  const images = o.distinct ? Number.MAX_SAFE_INTEGER : (o.images ?? 10_000);
  const registry = await startFakeRegistry(o.pin.loadgen);
  let target: Target | undefined;
  try {
    target = await startPortcullis({ workDir: o.workDir, certs: o.certs, pin: o.serverPin, config: registryConfig([registry.host]), label: 'portcullis (memory)', nodeArgs: o.nodeArgs ?? [] });
    const pid = target.pid;
    const rss = () => sampleProc(pid)?.rssBytes ?? 0;
    await new Promise((r) => setTimeout(r, 500));
    const idleRss = rss();
    const template = imagePodReview(['__IMAGE__'], 'bench-memory');
    const prefix = `${registry.host}/bench/mem-`;
    const common = { wrk: o.wrk, url: target.url, template, prefix, images, connections: 16, pin: o.pin, workDir: o.workDir };
    // wrk runs for a duration, so the load goes in chunks until the count is reached (the last one may overshoot)
    const chunkSeconds = o.quick ? 3 : 10;
    const maxChunks = o.quick ? 40 : 1000;
    const curve: Array<[number, number]> = [[0, idleRss]];
    const heapCurve: Array<[number, number]> = [[0, (await heapOf(target, o.certs.ca))?.heapUsed ?? 0]];
    let done = 0;
    let filledRss = 0;
    let total: LoadResult | undefined;
    for (let c = 0; c < maxChunks && done < admissions; c++) {
      const r = await imageLoop({ ...common, offset: done, seconds: chunkSeconds });
      done += r.requests;
      const now = rss();
      curve.push([done, now]);
      const heapUsed = (await heapOf(target, o.certs.ca))?.heapUsed ?? 0;
      heapCurve.push([done, heapUsed]);
      if (filledRss === 0 && done >= images) filledRss = now;
      if (c % 5 === 0) o.log(`memory: ${done} admissions, RSS ${(now / 2 ** 20).toFixed(0)} MB, heap ${(heapUsed / 2 ** 20).toFixed(0)} MB, ${r.rps.toFixed(0)}/s`);
      total = total
        ? { ...total, requests: total.requests + r.requests, seconds: total.seconds + r.seconds, rps: (total.requests + r.requests) / (total.seconds + r.seconds), errors: total.errors + r.errors, p99Us: Math.max(total.p99Us, r.p99Us), p999Us: Math.max(total.p999Us, r.p999Us), maxUs: Math.max(total.maxUs, r.maxUs) }
        : r;
    }
    const heap = await heapOf(target, o.certs.ca);
    const end = sampleProc(pid);
    const stats = await registry.stats();
    return {
      admissions: done,
      images: o.distinct ? done : images,
      distinct: o.distinct === true,
      heapCurve,
      idleRss,
      filledRss,
      endRss: end?.rssBytes ?? 0,
      peakRss: end?.hwmBytes ?? 0,
      curve,
      load: total ?? { requests: 0, seconds: 0, rps: 0, p50Us: 0, p99Us: 0, p999Us: 0, maxUs: 0, meanUs: 0, errors: 0 },
      registryRequests: stats.total,
      ...(heap ? { heap } : {}),
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
export async function runStartup(o: Omit<SectionOptions, 'wrk' | 'pin'> & { config: string }): Promise<StartupResults> {
  const n = o.quick ? 1 : 5;
  const portcullisMs: number[] = [];
  const nullMs: number[] = [];
  o.log(`start-up: ${n} starts each`);
  for (let i = 0; i < n; i++) {
    const p = await startPortcullis({ workDir: o.workDir, certs: o.certs, pin: o.serverPin, config: o.config, label: 'portcullis (start-up)', nodeArgs: o.nodeArgs ?? [] });
    portcullisMs.push(p.startupMs);
    await p.stop();
    const nw = await startNullWebhook({ workDir: o.workDir, certs: o.certs, pin: o.serverPin });
    nullMs.push(nw.startupMs);
    await nw.stop();
  }
  return { portcullisMs, nullMs };
}
