// Child processes for the e2e harness: own process groups, logs to files, killed on stop and on exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';

export interface ManagedProcess {
  name: string;
  pid: number;
  logPath: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** SIGTERM to the whole process group, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** The last `lines` lines of the log file. */
  tail(lines?: number): string;
}

const live = new Set<ManagedProcess>();
const dirs = new Set<string>();
let hooksInstalled = false;

// Kills every live process group and removes registered temp dirs, synchronously (exit hooks cannot await).
export function killAllSync(): void {
  for (const p of live) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

// Removes `dir` when the process exits (unless released first); returns the release function.
export function removeOnExit(dir: string): () => void {
  installExitHooks();
  dirs.add(dir);
  return () => {
    dirs.delete(dir);
  };
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllSync();
      process.kill(process.pid, signal);
    });
  }
}

export interface StartOptions {
  logPath: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

// Starts `command args` in a new process group with stdout and stderr appended to opts.logPath.
export function startProcess(name: string, command: string, args: string[], opts: StartOptions): ManagedProcess {
  installExitHooks();
  const fd = openSync(opts.logPath, 'a');
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`expected ${name} to start, got no pid (${command})`);
  const pid = child.pid;
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      live.delete(proc);
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (err) => {
      done = true;
      live.delete(proc);
      resolve(`error: ${err.message}`);
    });
  });
  const proc: ManagedProcess = {
    name,
    pid,
    logPath: opts.logPath,
    child,
    exited,
    hasExited: () => done,
    async stop(graceMs = 5000) {
      if (done) return;
      signalGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // Children left in the group (none expected) go too.
      signalGroup(pid, 'SIGKILL');
    },
    tail(lines = 40) {
      try {
        return readFileSync(opts.logPath, 'utf8').split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
  };
  live.add(proc);
  return proc;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // group already gone
  }
}

// A TCP port on 127.0.0.1 that was free a moment ago.
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  cwd?: string;
}

// Runs a command to completion and collects its output (never throws on a non-zero exit).
export async function run(command: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      timeout: opts.timeoutMs ?? 60_000,
      killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + (signal ? `\n[killed by ${signal}]` : ''),
      });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Thrown inside a waitFor callback to stop waiting at once (e.g. the awaited process exited). */
export class WaitAbortedError extends Error {
  readonly code = 'WAIT_ABORTED';
}

// Polls `fn` until it returns a value other than undefined, or throws after `timeoutMs` (or on WaitAbortedError).
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  { timeoutMs = 60_000, intervalMs = 250 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      if (err instanceof WaitAbortedError) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`expected ${what} within ${timeoutMs}ms, got timeout${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
