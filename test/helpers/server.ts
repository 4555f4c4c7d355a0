// Runs the built CLI (`node dist/src/cli/main.js serve`) as a child process on 127.0.0.1, and small HTTPS clients for it.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import type { RequestOptions } from 'node:https';
import { connect as http2Connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

// Builds dist/ once when the CLI is missing (type errors elsewhere do not stop tsc from emitting).
export function ensureBuilt(): void {
  if (existsSync(CLI)) return;
  spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'ignore' });
  if (!existsSync(CLI)) throw new Error(`expected ${CLI} after building, got nothing`);
}

export interface StartOptions {
  /** extra flags after `serve` (host, port and cert-dir are set unless given) */
  readonly args?: readonly string[];
  /** config YAML, written to <dir>/portcullis.yaml and passed as --config */
  readonly config?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** how long to wait for 'portcullis is serving' */
  readonly timeoutMs?: number;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Portcullis {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** the CA bundle (<cert-dir>/ca.crt) for a generated certificate, else undefined */
  readonly caPem: string | undefined;
  readonly certDir: string;
  /** the working directory (config file, certs); removed by stop() */
  readonly dir: string;
  /** the config file, when `config` was given */
  readonly configPath: string | undefined;
  readonly proc: ChildProcess;
  readonly exited: Promise<ExitStatus>;
  /** stdout lines parsed as JSON (pino), non-JSON lines skipped */
  logs(): Array<Record<string, any>>;
  stderr(): string;
  /** resolves with the first log line matching, after `from` lines; rejects after timeoutMs */
  waitForLog(match: (line: Record<string, any>) => boolean, opts?: { from?: number; timeoutMs?: number }): Promise<Record<string, any>>;
  /** SIGTERM, then SIGKILL after 5 s; removes the directory */
  stop(): Promise<ExitStatus>;
}

interface Spawned {
  proc: ChildProcess;
  exited: Promise<ExitStatus>;
  out: string[];
  err: string[];
}

function spawnCli(args: readonly string[], env: Readonly<Record<string, string>> = {}): Spawned {
  ensureBuilt();
  const proc = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  const out: string[] = [];
  const err: string[] = [];
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => out.push(chunk));
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => err.push(chunk));
  const exited = new Promise<ExitStatus>((resolveExit) => {
    proc.on('exit', (code, signal) => {
      running.delete(proc);
      resolveExit({ code, signal });
    });
  });
  return { proc, exited, out, err };
}

function parseLines(text: string): Array<Record<string, any>> {
  return text.split('\n').flatMap((line) => {
    try {
      const v: unknown = JSON.parse(line);
      return typeof v === 'object' && v !== null ? [v as Record<string, any>] : [];
    } catch {
      return [];
    }
  });
}

/** Runs the CLI to completion (for commands expected to exit), returning its exit status and output. */
export async function runCli(args: readonly string[], env?: Readonly<Record<string, string>>, timeoutMs = 30_000): Promise<ExitStatus & { stdout: string; stderr: string }> {
  const s = spawnCli(args, env);
  const timer = setTimeout(() => s.proc.kill('SIGKILL'), timeoutMs);
  const status = await s.exited;
  clearTimeout(timer);
  return { ...status, stdout: s.out.join(''), stderr: s.err.join('') };
}

const flagGiven = (args: readonly string[], flag: string): boolean => args.some((a) => a === flag || a.startsWith(`${flag}=`));

/** Starts `portcullis serve` on 127.0.0.1 (port 0 unless --port is given) and resolves once it logs 'portcullis is serving'. */
export async function startPortcullis(opts: StartOptions = {}): Promise<Portcullis> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-it-'));
  const args = [...(opts.args ?? [])];
  const certDir = join(dir, 'certs');
  if (!flagGiven(args, '--host')) args.push('--host', '127.0.0.1');
  if (!flagGiven(args, '--port')) args.push('--port', '0');
  if (!flagGiven(args, '--cert-dir')) args.push('--cert-dir', certDir);
  if (!flagGiven(args, '--tls-san') && !flagGiven(args, '--tls-cert')) args.push('--tls-san', '127.0.0.1');
  let configPath: string | undefined;
  if (opts.config !== undefined) {
    configPath = join(dir, 'portcullis.yaml');
    writeFileSync(configPath, opts.config);
    args.push('--config', configPath);
  }
  const s = spawnCli(['serve', ...args], opts.env);
  const logs = (): Array<Record<string, any>> => parseLines(s.out.join(''));
  const stderr = (): string => s.err.join('');
  const waitForLog: Portcullis['waitForLog'] = async (match, { from = 0, timeoutMs = 10_000 } = {}) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = logs().slice(from).find(match);
      if (found) return found;
      if (s.proc.exitCode !== null || s.proc.signalCode !== null) throw new Error(`portcullis exited before the expected log line:\n${stderr()}\n${s.out.join('').slice(-2000)}`);
      if (Date.now() > until) throw new Error(`expected a matching log line within ${timeoutMs} ms, got none:\n${s.out.join('').slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async (): Promise<ExitStatus> => {
    if (s.proc.exitCode === null && s.proc.signalCode === null) {
      s.proc.kill('SIGTERM');
      const timer = setTimeout(() => s.proc.kill('SIGKILL'), 5000);
      await s.exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
    return s.exited;
  };
  try {
    const serving = await waitForLog((l) => l.msg === 'portcullis is serving', { timeoutMs: opts.timeoutMs ?? 30_000 });
    const port = Number(new URL(String(serving.address)).port);
    const caFile = join(certDir, 'ca.crt');
    const caPem = !flagGiven(args, '--tls-cert') && existsSync(caFile) ? readFileSync(caFile, 'utf8') : undefined;
    return { url: `https://127.0.0.1:${port}`, port, caPem, certDir, dir, configPath, proc: s.proc, exited: s.exited, logs, stderr, waitForLog, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly httpVersion: string;
  json<T = any>(): T;
}

/** An HTTP/1.1 request over a new TLS connection (no agent, so every call does a fresh handshake). */
export function https1(url: string, opts: { method?: string; body?: string; ca?: string; headers?: Record<string, string>; tls?: RequestOptions } = {}): Promise<HttpAnswer> {
  return new Promise((resolveReq, reject) => {
    const req = httpsRequest(
      url,
      {
        method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
        agent: false,
        ...(opts.ca ? { ca: opts.ca } : {}),
        headers: { ...(opts.body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(opts.body)) } : {}), ...opts.headers },
        ...opts.tls,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolveReq({ status: res.statusCode ?? 0, headers: res.headers, text, httpVersion: res.httpVersion, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`expected an answer from ${url} within 15 s, got none`)));
    req.end(opts.body);
  });
}

/** An HTTP/2 request (ALPN h2) over a new session; also returns the negotiated protocol. */
export function http2Request(origin: string, path: string, opts: { method?: string; body?: string; ca?: string } = {}): Promise<HttpAnswer & { alpn: string | false | undefined }> {
  return new Promise((resolveReq, reject) => {
    const session = http2Connect(origin, { ...(opts.ca ? { ca: opts.ca } : {}) });
    session.on('error', reject);
    const headers: Record<string, string> = { ':method': opts.method ?? (opts.body === undefined ? 'GET' : 'POST'), ':path': path };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const stream = session.request(headers);
    let status = 0;
    let responseHeaders: Record<string, any> = {};
    stream.on('response', (h) => {
      status = Number(h[':status']);
      responseHeaders = h;
    });
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', reject);
    stream.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const alpn = session.alpnProtocol;
      session.close();
      resolveReq({ status, headers: responseHeaders, text, httpVersion: '2.0', alpn, json: () => JSON.parse(text) });
    });
    stream.end(opts.body);
  });
}
