// `portcullis scan` argument and connection errors through the built CLI (no cluster needed).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = `${root}dist/src/cli/main.js`;
const dir = mkdtempSync(join(tmpdir(), 'portcullis-scan-cli-'));
const kubeconfig = join(dir, 'kubeconfig');
// nothing listens on port 1 of 127.0.0.1
writeFileSync(kubeconfig, stringify({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } }],
  users: [{ name: 'u', user: { token: 'x' } }],
  contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
  'current-context': 'c',
}));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scan(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [cli, 'scan', '--no-progress', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000, env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('portcullis scan: usage and connection errors exit 2', () => {
  it('rejects an unknown output, a --policy without --preview-enforce, an unknown policy and SARIF previews', () => {
    expect(scan(['--output', 'xml']).code).toBe(2);
    expect(scan(['--policy', 'disallow-latest-tag']).stderr).toContain('only with --preview-enforce');
    expect(scan(['--kubeconfig', kubeconfig, '--preview-enforce', '--policy', 'nope']).stderr).toContain('expected a built-in or declared custom policy id');
    expect(scan(['--preview-enforce', '-o', 'sarif']).code).toBe(2);
    expect(scan(['--page-size', '0']).code).toBe(2);
  });

  it('rejects an unknown --report-api and an unreadable --exceptions path', () => {
    expect(scan(['--report-api', 'v2']).stderr).toContain('--report-api: expected auto|openreports|wgpolicyk8s');
    const missing = scan(['--exceptions', join(dir, 'missing.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--exceptions:');
  });

  it('names the API server it cannot reach', () => {
    const r = scan(['--kubeconfig', kubeconfig, '--offline']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot reach the API server');
  });

  it('prints its usage', () => {
    const r = scan(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--preview-enforce');
  });

  it('without any kubeconfig says so instead of a client library error', () => {
    const { KUBECONFIG: _k, KUBERNETES_SERVICE_HOST: _h, ...env } = process.env;
    const r = scan([], { ...env, HOME: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('scan needs a cluster: expected --kubeconfig FILE, $KUBECONFIG or ~/.kube/config, got none');
    expect(r.stderr).not.toContain('skipTLSVerify');
  });

  it('takes the config overrides audit takes, validated the same way', () => {
    const r = scan(['--kubeconfig', kubeconfig, '--set', 'disallow-latest-tag.requireDigests=true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('/policies/disallow-latest-tag: unknown key "requireDigests"');
    expect(scan(['--kubeconfig', kubeconfig, '--policy', 'disallow-latest-tag=block']).stderr).toContain('expected ID=ACTION');
  });
});
