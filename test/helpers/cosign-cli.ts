// Real cosign (v2 and v3, built by scripts/go-tools.sh) and ocireg for tests: key pairs, signing offline
// against loopback registries, `cosign verify` for cross-checks.

import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const TOOLS_BIN = join(process.env.PORTCULLIS_TOOLS ?? join(homedir(), '.cache', 'portcullis', 'tools'), 'bin');
export const COSIGN_PASSWORD = 'portcullis-test';

export function toolPath(name: 'cosign2' | 'cosign3' | 'ocireg' | 'crane'): string | undefined {
  const p = join(TOOLS_BIN, name);
  return existsSync(p) ? p : undefined;
}

// Environment for cosign: no TUF or network state outside a temp home, the key password set.
function cosignEnv(home: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, TUF_ROOT: join(home, '.sigstore'), COSIGN_PASSWORD, COSIGN_YES: 'true', SIGSTORE_NO_CACHE: 'true' };
}

export interface CosignKeys {
  dir: string;
  key: string;
  pub: string;
  pubPem: string;
}

export class Cosign {
  readonly home = mkdtempSync(join(tmpdir(), 'portcullis-cosign-'));
  constructor(readonly bin: string, readonly major: 2 | 3) {}

  async exec(args: string[], timeout = 120_000): Promise<{ stdout: string; stderr: string }> {
    try {
      return await run(this.bin, args, { env: cosignEnv(this.home), timeout, cwd: this.home, maxBuffer: 8 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; code?: number };
      const error = new Error(`${this.bin} ${args.join(' ')} failed (${e.code ?? '?'}): ${(e.stderr ?? '').slice(-2000)}`) as Error & { code?: number; stderr?: string };
      error.code = e.code;
      error.stderr = e.stderr;
      throw error;
    }
  }

  // cosign generate-key-pair in a fresh directory (encrypted with COSIGN_PASSWORD).
  async generateKeyPair(): Promise<CosignKeys> {
    const dir = mkdtempSync(join(this.home, 'keys-'));
    await run(this.bin, ['generate-key-pair'], { env: cosignEnv(this.home), cwd: dir, timeout: 60_000 });
    const pub = join(dir, 'cosign.pub');
    return { dir, key: join(dir, 'cosign.key'), pub, pubPem: readFileSync(pub, 'utf8') };
  }

  // Signs offline: no transparency log upload, loopback registry over HTTP.
  async sign(ref: string, keys: CosignKeys, extra: string[] = []): Promise<void> {
    const flags = ['sign', '--key', keys.key, '--tlog-upload=false', '--allow-insecure-registry', '--allow-http-registry', '-y'];
    if (this.major === 3) flags.push('--use-signing-config=false');
    await this.exec([...flags, ...extra, ref]);
  }

  // cosign attest offline (no transparency log upload) with a predicate file and type (vuln, slsaprovenance, a URI).
  async attest(ref: string, keys: CosignKeys, type: string, predicateFile: string, extra: string[] = []): Promise<void> {
    const flags = ['attest', '--key', keys.key, '--tlog-upload=false', '--allow-insecure-registry', '--allow-http-registry', '-y', '--type', type, '--predicate', predicateFile];
    if (this.major === 3) flags.push('--use-signing-config=false');
    await this.exec([...flags, ...extra, ref]);
  }

  // cosign verify-attestation --key --type --insecure-ignore-tlog: true when it accepts an attestation of that type.
  async verifyAttestation(ref: string, pub: string, type: string): Promise<boolean> {
    return this.accepts(['verify-attestation', '--key', pub, '--type', type, '--insecure-ignore-tlog=true', '--allow-insecure-registry', '--allow-http-registry', ref]);
  }

  // cosign verify --key --insecure-ignore-tlog: true when it accepts the image.
  async verify(ref: string, pub: string): Promise<boolean> {
    return this.accepts(['verify', '--key', pub, '--insecure-ignore-tlog=true', '--allow-insecure-registry', '--allow-http-registry', ref]);
  }

  // Runs a cosign verify command: true when it exits 0, false when it reports that nothing verifies.
  private async accepts(args: string[]): Promise<boolean> {
    try {
      await this.exec(args, 60_000);
      return true;
    } catch (err) {
      // cosign exits non-zero (1, 10, 12, ...) when nothing verifies; anything else is a broken test setup
      if (/no (matching )?signatures|no valid bundles|no matching attestations|invalid signature|failed to verify|none of the attestations matched/i.test((err as { stderr?: string }).stderr ?? '')) return false;
      throw err;
    }
  }
}

export interface Ocireg {
  host: string;
  stop(): Promise<void>;
}

// Starts ocireg (go-containerregistry's registry with the referrers API) on a free loopback port.
export async function startOcireg(bin: string): Promise<Ocireg> {
  const child = spawn(bin, ['-addr', '127.0.0.1:0', '-quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const host = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`ocireg did not start: ${out}`)), 10_000);
    const onData = (b: Buffer) => {
      out += b.toString('utf8');
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1] as string);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`ocireg exited ${code}: ${out}`)));
  });
  return {
    host,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
