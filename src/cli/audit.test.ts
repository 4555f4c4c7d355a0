// `portcullis audit` through the built CLI, as a user runs it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = `${root}dist/src/cli/main.js`;
const fixtures = `${root}test/fixtures/manifests`;

function audit(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [cli, 'audit', ...args], { cwd: root, input, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('portcullis audit', () => {
  it('exits 0 when nothing would be denied', () => {
    const r = audit(['-f', `${fixtures}/good.yaml`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('PASS Deployment/shop/web');
  });

  it('exits 1 and lists each violation for a List with a root pod', () => {
    const r = audit(['-f', `${fixtures}/bad.yaml`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('DENY Pod/shop/rooty');
    expect(r.stdout).toContain('[require-non-root-user] container "app" (containers[0]): runs as root');
    expect(r.stdout).toContain('[disallow-latest-tag] container "app" (containers[0])');
  });

  it('reads directories and stdin, and prints stable JSON', () => {
    const r = audit(['-f', fixtures, '-f', '-', '--output', 'json'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } }));
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.apiVersion).toBe('portcullis.dev/audit/v1');
    expect(doc.summary).toEqual({ resources: 3, denied: 2, skipped: 1 });
    expect(doc.results.map((x: { kind: string; verdict: string }) => `${x.kind}:${x.verdict}`)).toEqual(['Pod:deny', 'Deployment:pass', 'ConfigMap:skipped', 'Pod:deny']);
  });

  it('exits 2 on bad input, a missing file or a bad config', () => {
    expect(audit(['-f', '-'], 'kind: [unclosed').code).toBe(2);
    expect(audit(['-f', `${fixtures}/nope.yaml`]).code).toBe(2);
    expect(audit([]).code).toBe(2);
    const bad = audit(['-f', `${fixtures}/good.yaml`, '--config', `${fixtures}/bad.yaml`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('/kind');
  });

  it('applies a config: audit mode still reports what enforcement would deny', () => {
    const r = audit(['-f', `${fixtures}/bad.yaml`, '--config', `${root}test/fixtures/config-audit.yaml`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('DENY Pod/shop/rooty');
  });
});
