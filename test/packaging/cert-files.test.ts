// Generated certificates are never shared or overwritten by surprise: `serve` claims its --cert-dir, `cert` needs
// --force to replace files.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedTlsSource } from '../../src/server/tls.js';
import { CertDirInUseError } from '../../src/server/cert-dir.js';
import { runCli, startPortcullis } from '../helpers/server.js';

let dir: string;
let sleeper: ChildProcess;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-cert-files-'));
  sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
});

afterAll(() => {
  sleeper.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('a generated certificate directory', () => {
  it('is refused while another running process holds it, and its CA is left alone', () => {
    const certDir = join(dir, 'held');
    const first = generatedTlsSource(['127.0.0.1'], certDir);
    first.source.close();
    writeFileSync(join(certDir, 'portcullis.pid'), `${sleeper.pid}\n`);
    const ca = readFileSync(join(certDir, 'ca.crt'), 'utf8');
    let error: unknown;
    try {
      generatedTlsSource(['127.0.0.1'], certDir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CertDirInUseError);
    expect((error as CertDirInUseError).code).toBe('CERT_DIR_IN_USE');
    expect((error as CertDirInUseError).pid).toBe(sleeper.pid);
    expect(readFileSync(join(certDir, 'ca.crt'), 'utf8')).toBe(ca);
  });

  it('is taken over from a process that has ended, and released on close', () => {
    const certDir = join(dir, 'stale');
    const first = generatedTlsSource(['127.0.0.1'], certDir);
    first.source.close();
    expect(existsSync(join(certDir, 'portcullis.pid'))).toBe(false);
    writeFileSync(join(certDir, 'portcullis.pid'), '2147483646\n');
    const second = generatedTlsSource(['127.0.0.1'], certDir);
    expect(readFileSync(join(certDir, 'portcullis.pid'), 'utf8').trim()).toBe(String(process.pid));
    second.source.close();
  });

  it('makes a second `serve` on the same --cert-dir exit 2 saying which process uses it', async () => {
    const certDir = join(dir, 'served');
    const server = await startPortcullis({ args: ['--cert-dir', certDir] });
    const ca = readFileSync(join(certDir, 'ca.crt'), 'utf8');
    try {
      const second = await runCli(['serve', '--host', '127.0.0.1', '--port', '0', '--cert-dir', certDir]);
      expect(second.code).toBe(2);
      expect(second.stderr).toContain(`in use by portcullis process ${server.proc.pid}`);
      expect(readFileSync(join(certDir, 'ca.crt'), 'utf8')).toBe(ca);
    } finally {
      await server.stop();
    }
  });
});

describe('portcullis cert', () => {
  it('refuses to overwrite existing files without --force', async () => {
    const out = join(dir, 'cert');
    const first = await runCli(['cert', '--out-dir', out]);
    expect(first.code).toBe(0);
    const key = readFileSync(join(out, 'ca.key'), 'utf8');
    const again = await runCli(['cert', '--out-dir', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('got ca.crt, ca.key, tls.crt, tls.key: pass --force');
    expect(readFileSync(join(out, 'ca.key'), 'utf8')).toBe(key);
    const forced = await runCli(['cert', '--out-dir', out, '--force']);
    expect(forced.code).toBe(0);
    expect(readFileSync(join(out, 'ca.key'), 'utf8')).not.toBe(key);
  });
});
