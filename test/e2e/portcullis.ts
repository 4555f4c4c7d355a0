// Runs the built portcullis server (dist/src/cli/main.js serve) on 127.0.0.1 for e2e tests.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpsGet } from './http.js';
import { freePort, startProcess, waitFor, WaitAbortedError, type ManagedProcess } from './proc.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_PATH = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

export interface PortcullisOptions {
  /** Folder for certs, config and the log (created if missing). */
  dir: string;
  /** Config file content (YAML); no --config flag when omitted. */
  config?: string;
  /** Fixed port (default: a free one). */
  port?: number;
  logLevel?: string;
  /** Extra `serve` flags. */
  args?: string[];
}

export interface Portcullis {
  port: number;
  /** https://127.0.0.1:<port> */
  url: string;
  /** PEM CA bundle the server wrote to <cert-dir>/ca.crt. */
  caPem: string;
  logPath: string;
  process: ManagedProcess;
  /** The server's log lines parsed as JSON (non-JSON lines skipped). */
  logLines(): Record<string, unknown>[];
  stop(): Promise<void>;
}

// Starts `portcullis serve` and resolves once GET /readyz answers 200 over TLS with its own CA.
export async function startPortcullis(opts: PortcullisOptions): Promise<Portcullis> {
  if (!existsSync(CLI_PATH)) throw new Error(`expected the built CLI at ${CLI_PATH}, got nothing: run npm run build`);
  mkdirSync(opts.dir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const certDir = join(opts.dir, 'certs');
  const args = [CLI_PATH, 'serve', '--host', '127.0.0.1', '--port', String(port), '--cert-dir', certDir, '--tls-san', '127.0.0.1'];
  args.push('--log-level', opts.logLevel ?? 'info', ...(opts.args ?? []));
  if (opts.config !== undefined) {
    const configPath = join(opts.dir, 'portcullis.yaml');
    writeFileSync(configPath, opts.config);
    args.push('--config', configPath);
  }
  const logPath = join(opts.dir, `portcullis-${port}.log`);
  const proc = startProcess('portcullis', process.execPath, args, { logPath, cwd: REPO_ROOT });
  const url = `https://127.0.0.1:${port}`;
  try {
    const caPem = await waitFor(
      'portcullis /readyz',
      async () => {
        if (proc.hasExited()) throw new WaitAbortedError(`portcullis exited:\n${proc.tail()}`);
        const caPath = join(certDir, 'ca.crt');
        if (!existsSync(caPath)) return undefined;
        const ca = readFileSync(caPath, 'utf8');
        const res = await httpsGet(`${url}/readyz`, { ca }).catch(() => undefined);
        return res?.status === 200 ? ca : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    return {
      port,
      url,
      caPem,
      logPath,
      process: proc,
      logLines: () =>
        readFileSync(logPath, 'utf8')
          .split('\n')
          .flatMap((line) => {
            try {
              const v: unknown = JSON.parse(line);
              return typeof v === 'object' && v !== null ? [v as Record<string, unknown>] : [];
            } catch {
              return [];
            }
          }),
      stop: () => proc.stop(),
    };
  } catch (err) {
    await proc.stop();
    throw err;
  }
}
