// portcullis benchmarks (issue #8): npm run bench [-- --quick] [-- flags]. See docs/performance.md.
// Every server runs on CPU 0 and every load generator on CPU 1 (taskset) unless --no-pin.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runApiserver, type ApiserverResults } from './apiserver.js';
import { allowed, h2Client } from './client.js';
import { runImageScenarios, runRealRegistry, registryConfig, type ImageResults, type RealRegistryResults } from './images.js';
import { closedLoop, openLoop, type LoadResult, type Pinning } from './load.js';
import { runMemory, runStartup, type MemoryResults, type StartupResults } from './memory.js';
import { loadPayload, PAYLOADS, type Payload } from './payloads.js';
import { startSampler, waitForQuietMachine, type ProcUsage } from './procstat.js';
import { runProfile, type ProfileSummary } from './profile.js';
import { runPinning, type PinningResults } from './pinning.js';
import { labelBaseline, pinImages, runPolicyCount, type PolicyCountResults } from './policies.js';
import { POLICY_COUNT_END, POLICY_COUNT_START, renderPolicyCount, renderReport } from './report.js';
import { startNullWebhook, startPortcullis, startPsaWebhook, type Certs, type Target } from './targets.js';
import { BENCH_BUILD, CLI, findTools, goTool, INSTALL_HINT, REPO_ROOT, shippedRuntime, useCli, versionOf } from './tools.js';

const SECTIONS = ['load', 'open', 'images', 'pinning', 'real-registry', 'memory', 'memory-distinct', 'startup', 'profile', 'policies', 'apiserver'] as const;
type Section = (typeof SECTIONS)[number];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    skip: { type: 'string' },
    psa: { type: 'boolean' },
    'no-psa': { type: 'boolean', default: false },
    'no-pin': { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    out: { type: 'string' },
    admissions: { type: 'string' },
    'distinct-admissions': { type: 'string' },
    'apiserver-rates': { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string', default: '32' },
    keep: { type: 'boolean', default: false },
    'node-args': { type: 'string' },
    'baseline-cli': { type: 'string' },
    'baseline-label': { type: 'string' },
    'policy-rows': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const USAGE = `usage: npm run bench [-- flags]
  --quick            short runs (< 60 s without PSA), memory over 20,000 admissions; results to $TMPDIR
  --only A,B         sections: ${SECTIONS.join(', ')} (--only policies rewrites just that section of RESULTS.md)
  --skip A,B         leave sections out
  --psa / --no-psa   include the Pod Security Admission webhook and its API server (default: on, off in --quick)
  --no-pin           do not pin servers to CPU 0 and load generators to CPU 1
  --no-build         reuse the last bench build (node_modules/.cache/portcullis-bench/dist), else dist/
  --seconds N        measured seconds per closed/open-loop run (default 15, quick 2)
  --connections N    closed-loop connections (default 32)
  --admissions N     memory section: admissions in total (default 1,000,000, quick 20,000)
  --distinct-admissions N  memory-distinct section: admissions, each naming a new image (default 1,000,000, quick 20,000)
  --apiserver-rates A,B    apiserver section: dry-run Pod creates per second (default 100,200,400; quick 200)
  --out FILE         report path (default bench/RESULTS.md; quick: $TMPDIR/portcullis-bench/RESULTS-quick.md)
  --baseline-cli P   policies section: also measure this earlier build's dist/src/cli/main.js with its 5 policies
  --baseline-label L name of that build in the report (e.g. its commit)
  --policy-rows RE   policies section: only the configurations whose name matches (e.g. "image|spec"; profiling with
                     --node-args; the report in RESULTS.md is not rewritten)
  --node-args="..."  node flags for every portcullis process instead of the image's NODE_OPTIONS (Dockerfile)
  --keep             keep the work directory (logs, profiles)`;

if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const quick = values.quick === true;
const pick = (s: string | undefined) => new Set((s ?? '').split(',').map((x) => x.trim()).filter(Boolean));
const only = pick(values.only);
const skip = pick(values.skip);
for (const s of [...only, ...skip]) if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`--only/--skip: expected one of ${SECTIONS.join(', ')}, got "${s}"`);
const wants = (s: Section) => (only.size === 0 || only.has(s)) && !skip.has(s) && !(s === 'real-registry' && quick && !only.has(s)) && !(s === 'profile' && quick && !only.has(s));
const started = performance.now();
const log = (msg: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);

const tools = findTools();
if (!tools.wrk) throw new Error(`wrk not found: ${INSTALL_HINT}`);
if (!tools.vegeta && wants('open')) throw new Error(`vegeta not found: ${INSTALL_HINT}`);
const wrk = tools.wrk;
const pinned = !values['no-pin'] && tools.taskset !== undefined && cpus().length >= 2;
const serverPin = pinned ? ['taskset', '-c', '0'] : [];
const pin: Pinning = { loadgen: pinned ? ['taskset', '-c', '1'] : [] };
const measureSeconds = Number(values.seconds ?? (quick ? 2 : 15));
const warmSeconds = quick ? 1 : 3;
const connections = Number(values.connections);
const withPsa = values['no-psa'] ? false : (values.psa ?? !quick);
const shipped = shippedRuntime();
const portcullisNodeArgs = values['node-args'] !== undefined ? values['node-args'].split(' ').filter(Boolean) : [...shipped.nodeArgs];

// --- build: into the bench's own folder, so concurrent builds of dist/ cannot change the code mid-run ----------
// The newest modification time of the .ts files under these folders.
function newestSource(dirs: string[]): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of dirs) if (existsSync(d)) walk(d);
  return newest;
}
const benchCli = join(BENCH_BUILD, 'src', 'cli', 'main.js');
// --quick rebuilds only when src/ or policies/ changed since the last bench build
const upToDate = quick && existsSync(benchCli) && statSync(benchCli).mtimeMs >= newestSource([join(REPO_ROOT, 'src'), join(REPO_ROOT, 'policies')]);
if (upToDate) useCli(benchCli);
if (!values['no-build'] && !upToDate) {
  log(`building (tsc -p tsconfig.build.json --outDir ${BENCH_BUILD})`);
  rmSync(BENCH_BUILD, { recursive: true, force: true });
  try {
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', BENCH_BUILD], { cwd: REPO_ROOT, stdio: 'pipe' });
  } catch (err) {
    const out = (err as { stdout?: Buffer }).stdout?.toString() ?? '';
    log(`build reported errors; benchmarking what tsc emitted:\n${out.split('\n').slice(0, 10).join('\n')}`);
  }
  useCli(join(BENCH_BUILD, 'src', 'cli', 'main.js'));
}
if (!existsSync(CLI)) throw new Error(`expected ${CLI}: run without --no-build`);
log(`portcullis CLI: ${CLI}`);

const workDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
const certDir = join(workDir, 'certs');
execFileSync(process.execPath, [CLI, 'cert', '--out-dir', certDir, '--san', '127.0.0.1', '--san', 'localhost'], { stdio: 'pipe' });
const certs: Certs = { dir: certDir, cert: join(certDir, 'tls.crt'), key: join(certDir, 'tls.key'), ca: readFileSync(join(certDir, 'ca.crt'), 'utf8') };
// Pods as they reach /validate after the mutating webhook: images pinned to a digest (bench/policies.ts pinImages)
const tagOnly: Payload[] = PAYLOADS.map(loadPayload);
const payloads: Payload[] = tagOnly.map((p) => {
  const body = pinImages(p.body);
  return { ...p, body, bytes: Buffer.byteLength(body) };
});
const portcullisConfig = registryConfig([]);

// --- machine and versions ------------------------------------------------------------------------------
function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
function goModVersion(binary: string | undefined, module: string): string {
  if (!binary) return 'not built';
  const out = versionOf('go', ['version', '-m', binary]);
  try {
    const all = execFileSync('go', ['version', '-m', binary], { encoding: 'utf8' });
    const line = all.split('\n').find((l) => l.includes(`\t${module}\t`) || l.includes(` ${module} `));
    return line ? line.trim().split(/\s+/).slice(1, 3).join(' ') : out;
  } catch {
    return out;
  }
}
const cpuModel = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1] ?? 'unknown';
const machine = {
  nproc: cpus().length,
  cpuModel,
  memoryGiB: totalmem() / 2 ** 30,
  kernel: versionOf('uname', ['-r']),
  node: process.version,
  commit: `${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain', '--', 'src', 'policies']) ? ' (+ uncommitted changes in src/ or policies/)' : ''}`,
  psa: goModVersion(tools.psaWebhook, 'k8s.io/pod-security-admission'),
  portcullisNodeArgs: `${portcullisNodeArgs.join(' ') || 'none'}${values['node-args'] === undefined ? ' (the Dockerfile\'s NODE_OPTIONS)' : ''}; env ${Object.entries(shipped.env).map(([k, v]) => `${k}=${v}`).join(' ') || 'none'}`,
  kubeApiserver: goTool('kube-apiserver') ? versionOf(goTool('kube-apiserver') as string, ['--version']) : 'not built',
  wrk: versionOf(wrk, ['-v']),
  vegeta: goModVersion(tools.vegeta, 'github.com/tsenart/vegeta/v12'),
  pinned,
  date: new Date().toISOString(),
  /** /proc/loadavg when the run started and ended: how quiet the machine was */
  loadStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  loadEnd: '',
};

// --- results -------------------------------------------------------------------------------------------
export interface Run {
  target: string;
  payload: string;
  mode: 'closed' | 'open' | 'open-h2';
  load: LoadResult;
  usage: ProcUsage;
}
export interface TargetInfo {
  name: string;
  startupMs: number;
  /** per payload: HTTP status and allowed of one review sent before the load */
  answers: Record<string, string>;
}
const results: {
  quick: boolean;
  command: string;
  machine: typeof machine;
  payloads: Array<{ name: string; bytes: number; source: string }>;
  settings: { measureSeconds: number; warmSeconds: number; connections: number; rates: number[] };
  targets: TargetInfo[];
  runs: Run[];
  skipped: string[];
  images?: ImageResults;
  pinning?: PinningResults;
  realRegistry?: RealRegistryResults;
  memory?: MemoryResults;
  memoryDistinct?: MemoryResults;
  apiserver?: ApiserverResults;
  startup?: StartupResults;
  profile?: ProfileSummary;
  policyCount?: PolicyCountResults;
} = {
  quick,
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  machine,
  payloads: payloads.map((p) => ({ name: p.name, bytes: p.bytes, source: p.source })),
  settings: { measureSeconds, warmSeconds, connections, rates: quick ? [1000] : [500, 1000, 2000] },
  targets: [],
  runs: [],
  skipped: [],
};

type Starter = () => Promise<Target>;
const starters: Array<{ name: string; start: Starter; optional?: boolean }> = [
  { name: 'portcullis', start: () => startPortcullis({ workDir, certs, pin: serverPin, config: portcullisConfig, nodeArgs: portcullisNodeArgs }) },
  { name: 'null webhook', start: () => startNullWebhook({ workDir, certs, pin: serverPin }) },
];

interface ClusterHandle {
  kubeconfig: string;
  stop(): Promise<void>;
}
let cluster: ClusterHandle | undefined;

async function startClusterForPsa(): Promise<ClusterHandle> {
  const { startCluster } = await import('../test/e2e/cluster.js');
  log('starting etcd + kube-apiserver for the PSA webhook (test/e2e/cluster.ts, no controller manager)');
  const c = await startCluster({ controllerManager: false, log: (m) => log(`cluster: ${m}`) });
  const ns = await c.kubectl(['create', 'namespace', 'bench']);
  if (ns.code !== 0 && !ns.stderr.includes('AlreadyExists')) throw new Error(`kubectl create namespace bench: ${ns.stderr}`);
  return { kubeconfig: c.kubeconfig, stop: () => c.stop() };
}

if ((wants('load') || wants('open')) && withPsa) {
  if (!tools.psaWebhook) results.skipped.push(`PSA webhook: not built (scripts/go-tools.sh psa-webhook)`);
  else if (!tools.cluster) results.skipped.push('PSA webhook: etcd/kube-apiserver/kubectl not built (scripts/go-tools.sh kubernetes etcd)');
  else {
    const binary = tools.psaWebhook;
    // the control plane starts only now, so its start-up work overlaps no other server's runs, and PSA's runs wait
    // until it has settled
    starters.push({
      name: 'PSA webhook',
      optional: true,
      start: async () => {
        cluster = await startClusterForPsa();
        log(`cluster: waiting for a quiet machine (busy ${(100 * (await waitForQuietMachine())).toFixed(0)}% over the last second)`);
        return startPsaWebhook({ workDir, certs, pin: serverPin, binary, kubeconfig: cluster.kubeconfig });
      },
    });
  }
} else if (!withPsa) {
  results.skipped.push('PSA webhook: left out (--quick or --no-psa; add --psa)');
}

async function measured(target: Target, fn: () => Promise<LoadResult>): Promise<{ load: LoadResult; usage: ProcUsage }> {
  const sampler = startSampler(target.pid);
  const load = await fn();
  return { load, usage: sampler.stop() };
}

try {
  // --- load: closed and open loop against every target -----------------------------------------------
  if (wants('load') || wants('open')) {
    log(`waiting for a quiet machine (busy ${(100 * (await waitForQuietMachine())).toFixed(0)}% over the last second)`);
    for (const s of starters) {
      log(`${s.name}: starting`);
      let target: Target;
      try {
        target = await s.start();
      } catch (err) {
        if (!s.optional) throw err;
        results.skipped.push(`${s.name}: did not start: ${(err as Error).message.split('\n')[0]}`);
        continue;
      }
      const info: TargetInfo = { name: s.name, startupMs: target.startupMs, answers: {} };
      results.targets.push(info);
      try {
        const probe = h2Client(target.base, certs.ca);
        for (const p of payloads) {
          const a = await probe.post('/validate', p.body);
          info.answers[p.name] = `${a.status} ${allowed(a) ? 'allowed' : 'NOT allowed'}`;
        }
        probe.close();
        if (wants('load')) {
          for (const p of payloads) {
            log(`${s.name}: closed loop, ${p.name}, ${connections} connections, ${warmSeconds}+${measureSeconds} s`);
            await closedLoop({ wrk, url: target.url, body: p.body, connections, seconds: warmSeconds, pin, workDir });
            const m = await measured(target, () => closedLoop({ wrk, url: target.url, body: p.body, connections, seconds: measureSeconds, pin, workDir }));
            results.runs.push({ target: s.name, payload: p.name, mode: 'closed', ...m });
          }
        }
        if (wants('open') && tools.vegeta) {
          const openPayloads = quick ? payloads.filter((p) => p.name === 'pod-10c') : payloads;
          for (const p of openPayloads) {
            for (const rate of results.settings.rates) {
              log(`${s.name}: open loop, ${p.name}, ${rate}/s for ${measureSeconds} s`);
              const m = await measured(target, () => openLoop({ vegeta: tools.vegeta as string, url: target.url, body: p.body, rate, seconds: measureSeconds, warmSeconds, pin, workDir }));
              results.runs.push({ target: s.name, payload: p.name, mode: 'open', ...m });
            }
          }
          if (!quick) {
            const p = payloads.find((x) => x.name === 'pod-10c') as Payload;
            log(`${s.name}: open loop over HTTP/2, ${p.name}, 1000/s`);
            const m = await measured(target, () => openLoop({ vegeta: tools.vegeta as string, url: target.url, body: p.body, rate: 1000, seconds: measureSeconds, warmSeconds, pin, workDir, http2: true }));
            results.runs.push({ target: s.name, payload: p.name, mode: 'open-h2', ...m });
          }
        }
      } finally {
        await target.stop();
      }
    }
  }
} finally {
  await cluster?.stop();
}

// --- image paths, memory, start-up, profile --------------------------------------------------------------
const common = { quick, wrk, certs, workDir, serverPin, pin, log, nodeArgs: portcullisNodeArgs };
if (wants('images')) results.images = await runImageScenarios(common);
if (wants('pinning')) results.pinning = await runPinning({ ...common, connections, seconds: measureSeconds });
if (wants('real-registry')) {
  if (!tools.dockerRegistry || !tools.skopeo) results.skipped.push('real registry: docker-registry or skopeo missing (apt-get install docker-registry skopeo umoci)');
  else {
    try {
      results.realRegistry = await runRealRegistry(common);
    } catch (err) {
      results.skipped.push(`real registry: ${(err as Error).message.split('\n')[0]}`);
    }
  }
}
if (wants('memory')) results.memory = await runMemory({ ...common, ...(values.admissions ? { admissions: Number(values.admissions) } : {}) });
if (wants('memory-distinct')) results.memoryDistinct = await runMemory({ ...common, distinct: true, ...(values['distinct-admissions'] ? { admissions: Number(values['distinct-admissions']) } : {}) });
if (wants('apiserver')) {
  if (!tools.cluster) results.skipped.push('API server view: etcd/kube-apiserver/kubectl not built (scripts/go-tools.sh kubernetes etcd)');
  else {
    if (!tools.psaWebhook) results.skipped.push('API server view: PSA webhook not built (scripts/go-tools.sh psa-webhook); run without it');
    const psa = tools.psaWebhook;
    results.apiserver = await runApiserver({
      quick, certs, workDir, pinned, log,
      ...(values['apiserver-rates'] ? { rates: values['apiserver-rates'].split(',').map(Number) } : {}),
      ...(values.seconds ? { seconds: measureSeconds } : {}),
      webhooks: [
        { label: 'null webhook', path: '/validate', start: () => startNullWebhook({ workDir, certs, pin: serverPin }) },
        { label: 'portcullis', path: '/validate', start: () => startPortcullis({ workDir, certs, pin: serverPin, config: portcullisConfig, nodeArgs: portcullisNodeArgs }) },
        ...(psa ? [{ label: 'PSA webhook', path: '/', start: (kubeconfig: string) => startPsaWebhook({ workDir, certs, pin: serverPin, binary: psa, kubeconfig }) }] : []),
      ],
    });
  }
}
if (wants('startup')) results.startup = await runStartup({ quick, certs, workDir, serverPin, config: portcullisConfig, log, nodeArgs: portcullisNodeArgs });
if (wants('profile')) {
  log('profile: portcullis under --cpu-prof, closed loop, pod-10c');
  const p = payloads.find((x) => x.name === 'pod-10c') as Payload;
  results.profile = await runProfile({ wrk, certs, workDir, serverPin, pin, config: portcullisConfig, body: p.body, seconds: quick ? 3 : 15, connections, nodeArgs: portcullisNodeArgs });
}

if (wants('policies')) {
  if (values['baseline-label']) labelBaseline(values['baseline-label']);
  const rows = values['policy-rows'] === undefined ? undefined : new RegExp(values['policy-rows']);
  results.policyCount = await runPolicyCount(common, tagOnly.find((x) => x.name === 'pod-10c') as Payload, values['baseline-cli'], rows);
}

// --- report ------------------------------------------------------------------------------------------------
// `--only policies`: replace only the policy-count section of the existing report, keeping every other section
if (only.size === 1 && only.has('policies') && results.policyCount && values.out === undefined && !quick && values['policy-rows'] === undefined) {
  const path = join(REPO_ROOT, 'bench', 'RESULTS.md');
  const old = readFileSync(path, 'utf8');
  machine.loadEnd = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const section = renderPolicyCount(results.policyCount, results.command, machine.date, `${machine.loadStart} / ${machine.loadEnd}`);
  const start = old.indexOf(POLICY_COUNT_START);
  const end = old.indexOf(POLICY_COUNT_END);
  const at = old.indexOf('\n## Left out of this run');
  const next = start !== -1 && end !== -1 ? old.slice(0, start) + section + old.slice(end + POLICY_COUNT_END.length) : at !== -1 ? `${old.slice(0, at + 1)}${section}\n${old.slice(at)}` : `${old.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next);
  process.stdout.write(`${section}\n`);
  log(`wrote the policy-count section of ${path}`);
  rmSync(workDir, { recursive: true, force: true });
  process.exit(0);
}
machine.loadEnd = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const outPath = values.out ?? (quick ? join(tmpdir(), 'portcullis-bench', 'RESULTS-quick.md') : join(REPO_ROOT, 'bench', 'RESULTS.md'));
mkdirSync(join(outPath, '..'), { recursive: true });
const report = renderReport(results);
writeFileSync(outPath, report);
writeFileSync(outPath.replace(/\.md$/, '.json'), `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`${report}\n`);
log(`wrote ${outPath} (and .json) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (values.keep) log(`work directory kept: ${workDir}`);
else rmSync(workDir, { recursive: true, force: true });
process.exit(0);

export type Results = typeof results;
