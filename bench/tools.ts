// Finds the external tools the bench drives: wrk and vegeta (load), taskset (CPU pinning), the PSA webhook and
// the e2e control plane (Go tools built by scripts/go-tools.sh), docker-registry and skopeo (real-registry step).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(new URL('.', import.meta.url).pathname, '..');
/** the bench's own build of src/ (so other builds of dist/ cannot change it mid-run); see buildForBench */
export const BENCH_BUILD = join(REPO_ROOT, 'node_modules', '.cache', 'portcullis-bench', 'dist');
/** the portcullis CLI the bench runs: the bench build when there is one, else dist/ */
export let CLI = existsSync(join(BENCH_BUILD, 'src', 'cli', 'main.js')) ? join(BENCH_BUILD, 'src', 'cli', 'main.js') : join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

/** How the container image runs node (the Dockerfile's ENV): V8 flags and environment. */
export interface ShippedRuntime {
  readonly nodeArgs: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

// Reads NODE_OPTIONS and the MALLOC_* settings from the Dockerfile, so the bench runs portcullis as the image does.
export function shippedRuntime(): ShippedRuntime {
  const text = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const nodeOptions = /NODE_OPTIONS="([^"]*)"/.exec(text)?.[1] ?? '';
  const malloc = Object.fromEntries([...text.matchAll(/\b(MALLOC_[A-Z_]+)=(\d+)/g)].map((m) => [m[1] as string, m[2] as string]));
  return { nodeArgs: nodeOptions.split(' ').filter(Boolean), env: malloc };
}

export function useCli(path: string): void {
  CLI = path;
}
export const TOOLS_BIN = join(process.env.PORTCULLIS_TOOLS ?? join(homedir(), '.cache', 'portcullis', 'tools'), 'bin');

// The absolute path of a command on PATH, or undefined.
export function which(command: string): string | undefined {
  try {
    return execFileSync('bash', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

// A Go tool in $PORTCULLIS_TOOLS/bin, or undefined.
export function goTool(name: string): string | undefined {
  const p = join(TOOLS_BIN, name);
  return existsSync(p) ? p : undefined;
}

export interface Tools {
  wrk?: string;
  vegeta?: string;
  taskset?: string;
  psaWebhook?: string;
  /** etcd, kube-apiserver and kubectl are all there */
  cluster: boolean;
  dockerRegistry?: string;
  skopeo?: string;
}

export function findTools(): Tools {
  const vegeta = goTool('vegeta') ?? which('vegeta');
  const wrk = which('wrk');
  const taskset = which('taskset');
  const psaWebhook = goTool('psa-webhook');
  const dockerRegistry = which('docker-registry');
  const skopeo = which('skopeo');
  return {
    ...(wrk ? { wrk } : {}),
    ...(vegeta ? { vegeta } : {}),
    ...(taskset ? { taskset } : {}),
    ...(psaWebhook ? { psaWebhook } : {}),
    cluster: ['etcd', 'kube-apiserver', 'kubectl'].every((t) => goTool(t) !== undefined),
    ...(dockerRegistry ? { dockerRegistry } : {}),
    ...(skopeo ? { skopeo } : {}),
  };
}

// The version line of a tool, best effort.
export function versionOf(command: string, args: string[]): string {
  try {
    const out = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    return out.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown';
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown';
  }
}

export const INSTALL_HINT = 'run bench/install-tools.sh (apt-get install wrk; go install vegeta; scripts/go-tools.sh psa-webhook kubernetes etcd)';
