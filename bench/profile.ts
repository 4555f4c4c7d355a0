// The hot path's CPU profile: portcullis under `node --cpu-prof` during a closed-loop run, summarized as the
// functions and the modules with the most self time.
//   node --import ./bench/hooks.ts bench/profile.ts FILE.cpuprofile     summarizes an existing profile
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { closedLoop, type LoadResult, type Pinning } from './load.js';
import { startPortcullis, type Certs } from './targets.js';
import { REPO_ROOT } from './tools.js';


interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  totalMs: number;
  functions: SelfTime[];
  modules: SelfTime[];
  load?: LoadResult;
  file?: string;
}

// Where a frame comes from: a repo-relative file, a package name, or a node: builtin.
function origin(url: string): string {
  if (url === '') return '(native/V8)';
  const path = url.replace(/^file:\/\//, '');
  // the bench's own build (node_modules/.cache/portcullis-bench/<dist|exp-*>/...): name the source file
  const own = /\/node_modules\/\.cache\/portcullis-bench\/[^/]+\/(.*)$/.exec(path);
  if (own) return `${own[1]}`;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? path);
  }
  if (path.startsWith('node:')) return path;
  return path.startsWith('/') ? relative(REPO_ROOT, path) : path;
}

// Self time by function and by module, largest first.
export function summarize(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const fns = new Map<string, SelfTime>();
  const mods = new Map<string, SelfTime>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    totalUs += us;
    const mod = origin(url);
    const name = functionName || '(anonymous)';
    const where = url ? `${mod}:${lineNumber + 1}` : mod;
    const fk = `${name}@${where}`;
    const f = fns.get(fk) ?? { name, where, ms: 0, percent: 0 };
    f.ms += us / 1000;
    fns.set(fk, f);
    const m = mods.get(mod) ?? { name: mod, where: '', ms: 0, percent: 0 };
    m.ms += us / 1000;
    mods.set(mod, m);
  }
  const finish = (xs: Iterable<SelfTime>) =>
    [...xs]
      .map((x) => ({ ...x, percent: totalUs ? (x.ms * 1000 * 100) / totalUs : 0 }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top);
  return { totalMs: totalUs / 1000, functions: finish(fns.values()), modules: finish(mods.values()) };
}

export interface ProfileOptions {
  readonly wrk: string;
  readonly certs: Certs;
  readonly workDir: string;
  readonly serverPin: readonly string[];
  readonly pin: Pinning;
  readonly config: string;
  readonly body: string;
  readonly seconds: number;
  readonly connections: number;
  /** portcullis's node flags (the Dockerfile's by default), the profiler's added */
  readonly nodeArgs?: readonly string[];
}

// Runs portcullis with --cpu-prof through a closed-loop run and summarizes the profile it writes on exit.
export async function runProfile(o: ProfileOptions): Promise<ProfileSummary> {
  const dir = join(o.workDir, `cpu-prof-${Date.now()}`);
  const target = await startPortcullis({ workDir: o.workDir, certs: o.certs, pin: o.serverPin, config: o.config, nodeArgs: [...(o.nodeArgs ?? []), '--cpu-prof', `--cpu-prof-dir=${dir}`], label: 'portcullis (profiled)' });
  let load: LoadResult;
  try {
    load = await closedLoop({ wrk: o.wrk, url: target.url, body: o.body, connections: o.connections, seconds: o.seconds, pin: o.pin, workDir: o.workDir });
  } finally {
    await target.stop();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`expected a .cpuprofile in ${dir}, got none`);
  const summary = summarize(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile);
  return { ...summary, load, file: join(dir, file) };
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv[2]) {
  const s = summarize(JSON.parse(readFileSync(process.argv[2], 'utf8')) as CpuProfile, 40);
  for (const f of s.functions) process.stdout.write(`${f.percent.toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}  ${f.where}\n`);
  process.stdout.write('\n');
  for (const m of s.modules) process.stdout.write(`${m.percent.toFixed(1).padStart(5)}%  ${m.ms.toFixed(0).padStart(7)} ms  ${m.name}\n`);
}
