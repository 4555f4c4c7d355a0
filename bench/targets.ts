// The servers under test, each started as its own process on 127.0.0.1 with the same serving certificate:
// portcullis (the built CLI), the null webhook (bench/null-webhook.ts) and the Pod Security Admission webhook.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { freePort } from '../test/e2e/proc.js';
import { join } from 'node:path';
import { CLI, REPO_ROOT, shippedRuntime } from './tools.js';

export interface Certs {
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

export interface Target {
  readonly name: string;
  /** https://127.0.0.1:<port> */
  readonly base: string;
  /** the admission endpoint */
  readonly url: string;
  readonly pid: number;
  readonly logPath: string;
  /** ms from spawn to the first /readyz 200 */
  readonly startupMs: number;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly workDir: string;
  readonly certs: Certs;
  /** command prefix pinning the server, e.g. ['taskset', '-c', '0'] */
  readonly pin: readonly string[];
  /** extra node flags (e.g. --cpu-prof) */
  readonly nodeArgs?: readonly string[];
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

// GET url over TLS; resolves with the status (0 on any connection error).
export function probe(url: string, ca: string): Promise<number> {
  return new Promise((resolveStatus) => {
    const req = request(url, { method: 'GET', ca, timeout: 2000, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolveStatus(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolveStatus(0));
    req.end();
  });
}

// GET url over TLS; resolves with the body ('' on any error).
export function getText(url: string, ca: string): Promise<string> {
  return new Promise((resolveText) => {
    const req = request(url, { method: 'GET', ca, timeout: 5000, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolveText(Buffer.concat(chunks).toString('utf8')));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolveText(''));
    req.end();
  });
}

// Spawns `argv` with output to logPath and waits until readyUrl answers 200 (polling every 5 ms).
async function startProcess(name: string, argv: readonly string[], logPath: string, base: string, readyPath: string, certs: Certs, timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<Target> {
  const fd = openSync(logPath, 'a');
  const started = performance.now();
  const child = spawn(argv[0] as string, argv.slice(1), { cwd: REPO_ROOT, stdio: ['ignore', fd, fd], env: env ?? process.env });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`expected ${name} to start, got no pid`);
  live.add(child);
  let exited = false;
  const exit = new Promise<void>((resolveExit) =>
    child.once('exit', () => {
      exited = true;
      live.delete(child);
      resolveExit();
    }),
  );
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(timer);
  };
  const deadline = started + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`${name} exited before it was ready:\n${readFileSync(logPath, 'utf8').slice(-3000)}`);
    if ((await probe(`${base}${readyPath}`, certs.ca)) === 200) break;
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`${name}: expected ${readyPath} 200 within ${timeoutMs} ms, got none:\n${readFileSync(logPath, 'utf8').slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const startupMs = performance.now() - started;
  return { name, base, url: `${base}/validate`, pid: child.pid, logPath, startupMs, stop };
}

export interface PortcullisStart extends StartOptions {
  /** config YAML */
  readonly config: string;
  readonly logLevel?: string;
  /** run this CLI instead of dist/src/cli/main.js (a patched scratch build) */
  readonly cli?: string;
  readonly label?: string;
}

export async function startPortcullis(o: PortcullisStart): Promise<Target> {
  const port = await freePort();
  const dir = join(o.workDir, `portcullis-${port}`);
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, 'portcullis.yaml');
  writeFileSync(configPath, o.config);
  const base = `https://127.0.0.1:${port}`;
  const argv = [
    ...o.pin, process.execPath, ...(o.nodeArgs ?? []), o.cli ?? CLI, 'serve', '--host', '127.0.0.1', '--port', String(port),
    '--tls-cert', o.certs.cert, '--tls-key', o.certs.key, '--config', configPath, '--log-level', o.logLevel ?? 'info', '--shutdown-grace', '1',
  ];
  // the image's environment (MALLOC_ARENA_MAX); its V8 flags come in nodeArgs, so runs can compare them (and
  // PORTCULLIS_NODE_SETTINGS=off keeps serve from adding the shipped flags that nodeArgs leaves out)
  return startProcess(o.label ?? 'portcullis', argv, join(dir, 'server.log'), base, '/readyz', o.certs, 30_000, { ...process.env, ...shippedRuntime().env, PORTCULLIS_NODE_SETTINGS: 'off' });
}

export async function startNullWebhook(o: StartOptions): Promise<Target> {
  const port = await freePort();
  const base = `https://127.0.0.1:${port}`;
  const argv = [...o.pin, process.execPath, ...(o.nodeArgs ?? []), '--import', join(REPO_ROOT, 'bench', 'hooks.ts'), join(REPO_ROOT, 'bench', 'null-webhook.ts'), '--port', String(port), '--tls-cert', o.certs.cert, '--tls-key', o.certs.key];
  return startProcess('null webhook', argv, join(o.workDir, `null-${port}.log`), base, '/readyz', o.certs, 30_000);
}

export interface PsaStart extends StartOptions {
  readonly binary: string;
  readonly kubeconfig: string;
}

// PodSecurityConfiguration with every mode at restricted/latest and no exemptions.
export const PSA_CONFIG = `apiVersion: pod-security.admission.config.k8s.io/v1
kind: PodSecurityConfiguration
defaults:
  enforce: restricted
  enforce-version: latest
  audit: restricted
  audit-version: latest
  warn: restricted
  warn-version: latest
exemptions:
  usernames: []
  runtimeClasses: []
  namespaces: []
`;

// The Pod Security Admission webhook (k8s.io/pod-security-admission/cmd/webhook) at restricted; it serves every path.
export async function startPsaWebhook(o: PsaStart): Promise<Target> {
  const port = await freePort();
  const configPath = join(o.workDir, 'psa-config.yaml');
  writeFileSync(configPath, PSA_CONFIG);
  const base = `https://127.0.0.1:${port}`;
  const argv = [
    ...o.pin, o.binary, `--config=${configPath}`, `--kubeconfig=${o.kubeconfig}`, `--tls-cert-file=${o.certs.cert}`, `--tls-private-key-file=${o.certs.key}`,
    '--bind-address=127.0.0.1', `--secure-port=${port}`, `--cert-dir=${join(o.workDir, 'psa-certs')}`,
  ];
  return startProcess('PSA webhook', argv, join(o.workDir, `psa-${port}.log`), base, '/readyz', o.certs, 60_000);
}
