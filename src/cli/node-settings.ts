// The node settings `portcullis serve` runs with, in the container image (the Dockerfile's ENV) and from
// `npm start` or the bin alike: a bounded V8 heap grown 10% past what a full collection kept, 4 MiB
// young-generation semi-spaces, no allocation-site pretenuring, a tight glibc malloc (docs/performance.md). A process
// started without them re-executes itself with them.

/**
 * V8 flags: old space bounded at 96 MiB, per-review garbage kept in 4 MiB semi-spaces, and no allocation-site
 * pretenuring: reviews that wait on registry look-ups survive a few scavenges, V8 then allocates every later review's
 * parsed body and pod spec straight in old space, and each of those keeps its young children alive until a full
 * collection (a third more CPU per review and tens of ms of p99 with image facts on; bench/RESULTS.md). The old
 * generation may grow 10% past what the last full collection kept before the next one (V8 chooses 30-100% itself):
 * about 10 MB less RSS once the image caches are full, at no CPU cost side by side (docs/performance.md).
 */
export const NODE_FLAGS: readonly string[] = ['--max-old-space-size=96', '--max-semi-space-size=4', '--no-allocation-site-pretenuring', '--heap-growing-percent=10'];
/**
 * glibc malloc, read at process start (so only a new process can change them): two arenas, and fixed 128 KiB
 * trim and mmap thresholds (left dynamic, they grow after large frees and freed memory stays in RSS).
 */
export const NODE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '131072', MALLOC_MMAP_THRESHOLD_: '131072' };
/** Set to `off` to run with node's own defaults (experiments); set by the re-execution to stop a loop. */
export const SETTINGS_ENV = 'PORTCULLIS_NODE_SETTINGS';

export interface MissingSettings {
  readonly flags: string[];
  readonly env: Record<string, string>;
}

// The name of a V8 flag, with underscores as dashes and without a negation (`--max_old_space_size=1` is
// `--max-old-space-size`, `--no-allocation-site-pretenuring` is `--allocation-site-pretenuring`).
const flagName = (arg: string) => (arg.split('=')[0] ?? '').replaceAll('_', '-').replace(/^--no-/, '--');

// The settings not already given: a flag counts as given with any value, on the command line or in NODE_OPTIONS.
export function missingSettings(execArgv: readonly string[], env: NodeJS.ProcessEnv): MissingSettings {
  const given = new Set([...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].map(flagName));
  const flags = NODE_FLAGS.filter((f) => !given.has(flagName(f)));
  const missingEnv = Object.fromEntries(Object.entries(NODE_ENV).filter(([k]) => env[k] === undefined));
  return { flags, env: missingEnv };
}

// Re-executes this process (same pid and stdio) with the missing settings; returns when none are missing,
// when PORTCULLIS_NODE_SETTINGS is set, or when the platform cannot replace a process image.
export function ensureNodeSettings(): void {
  if (process.env[SETTINGS_ENV] !== undefined) return;
  const missing = missingSettings(process.execArgv, process.env);
  if (missing.flags.length === 0 && Object.keys(missing.env).length === 0) return;
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (typeof execve !== 'function') {
    process.stderr.write(`portcullis: running without ${[...missing.flags, ...Object.keys(missing.env)].join(' ')} (this node cannot re-execute itself); memory may exceed the documented bound\n`);
    return;
  }
  const args = [process.execPath, ...missing.flags, ...process.execArgv, ...process.argv.slice(1)];
  execve.call(process, process.execPath, args, { ...process.env, ...missing.env, [SETTINGS_ENV]: 'set' });
}
