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

const strict = `${root}test/fixtures/audit`;

describe('portcullis audit: strict about what it did not check', () => {
  it('names every skipped document and why, and checks custom resources that carry a pod template', () => {
    const r = audit(['-f', `${strict}/crs`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^DENY +Rollout\/shop\/web {2}\(.*custom-resources\.yaml:1\)$/m);
    expect(r.stdout).toContain('[require-non-root-user] container "app" (containers[0]): runs as root');
    expect(r.stdout).toContain('[disallow-latest-tag] container "app" (containers[0]): image "nginx" has no tag');
    expect(r.stdout).toMatch(/^PASS +ScheduledTask\/shop\/nightly/m);
    expect(r.stdout).toMatch(/^SKIP +Workload\/shop\/batch .*: custom resource Workload \(apps\.example\.com\): no pod spec at spec\.template\.spec, spec\.jobTemplate\.spec\.template\.spec/m);
    expect(r.stdout).toMatch(/^SKIP +Certificate\/shop\/tls /m);
    expect(r.stdout).toContain('2 resources checked, 1 would be denied, 2 skipped');
  });

  it('checks a custom resource at a --pod-template-path, with the container line in JSON', () => {
    const r = audit(['-f', `${strict}/crs/custom-resources.yaml`, '--pod-template-path', 'spec.runner.podSpec', '-o', 'json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    const batch = doc.results.find((x: { name: string }) => x.name === 'batch');
    expect(batch.verdict).toBe('deny');
    expect(batch.violations[0]).toMatchObject({ policy: 'require-non-root-user', effect: 'deny', deniesWhenEnforced: true, line: 37 });
  });

  it('exits 2 when there is nothing to check, unless --allow-empty', () => {
    const empty = audit(['-f', `${strict}/empty`]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('empty: no .yaml, .yml or .json file to check');
    expect(audit(['-f', `${strict}/empty`, '--allow-empty']).code).toBe(0);
    const configOnly = audit(['-f', `${strict}/config-only/settings.yaml`]);
    expect(configOnly.code).toBe(2);
    expect(configOnly.stderr).toContain('no resource carries a pod spec (skipped: ConfigMap/shop/settings');
    const allowed = audit(['-f', `${strict}/config-only/settings.yaml`, '--allow-empty']);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('0 resources checked, 0 would be denied, 1 skipped');
  });

  it('exits 2 on a file that is not a manifest, unless --allow-empty', () => {
    const r = audit(['-f', `${strict}/config-only/values.yaml`, '-f', `${fixtures}/good.yaml`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/values\.yaml:2: document 0 is not a Kubernetes object \(expected apiVersion and kind\)/);
    const allowed = audit(['-f', `${strict}/config-only/values.yaml`, '-f', `${fixtures}/good.yaml`, '--allow-empty']);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/^SKIP +\/\(unnamed\) .*values\.yaml:2\): not a Kubernetes object/m);
  });

  it('tells to run helm template on a chart directory or one of its templates', () => {
    for (const path of [`${strict}/chart`, `${strict}/chart/templates/pod.yaml`]) {
      const r = audit(['-f', path]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/Helm chart.*render it first, e\.g\. helm template \S*chart \| portcullis audit -f -/);
    }
  });

  it('prints YAML errors whole, with file and line', () => {
    const r = audit(['-f', '-'], 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - name: a\n     image: b\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('<stdin>:7: Nested mappings are not allowed in compact mappings at line 7, column 11:');
    expect(r.stderr).toContain('  - name: a\n          ^');
  });

  it('applies --set and --policy overrides, validated like the config file', () => {
    const digest = audit(['-f', `${fixtures}/good.yaml`, '--set', 'disallow-latest-tag.requireDigest=true']);
    expect(digest.code).toBe(1);
    expect(digest.stdout).toContain('[disallow-latest-tag] container "web"');
    const off = audit(['-f', `${fixtures}/bad.yaml`, '--policy', 'require-non-root-user=off', '--policy', 'require-drop-all-capabilities=off', '--policy', 'disallow-latest-tag=off', '--set', 'require-read-only-root-filesystem.action=warn']);
    expect(off.code).toBe(0);
    expect(off.stdout).toMatch(/^WARN +Pod\/shop\/rooty/m);
    expect(off.stdout).toMatch(/^ {5}warn {2}\[require-read-only-root-filesystem\]/m);
    const typo = audit(['-f', `${fixtures}/good.yaml`, '--set', 'disallow-latest-tag.requireDigests=true']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('/policies/disallow-latest-tag: unknown key "requireDigests"');
    const badAction = audit(['-f', `${fixtures}/good.yaml`, '--policy', 'disallow-latest-tag=block']);
    expect(badAction.code).toBe(2);
    expect(badAction.stderr).toContain('--policy');
  });

  it('applies --set and --policy to custom policies by their id; an unknown id is refused, named', () => {
    const config = `${root}examples/custom-policies/config.yaml`;
    const big = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'big', namespace: 'shop' }, spec: { securityContext: { runAsNonRoot: true, runAsUser: 10001 }, containers: [{ name: 'app', image: 'registry.example.com/app:1.0', resources: { limits: { memory: '6Gi' } }, securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }] } });
    const denied = audit(['-f', '-', '--config', config], big);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toContain('[limit-container-memory] container "app" (containers[0]): memory limit 6Gi is above 4Gi');
    expect(audit(['-f', '-', '--config', config, '--set', 'limit-container-memory.maxMemory=8Gi'], big).code).toBe(0);
    const warned = audit(['-f', '-', '--config', config, '--policy', 'limit-container-memory=warn'], big);
    expect(warned.code).toBe(0);
    expect(warned.stdout).toMatch(/warn {2}\[limit-container-memory\]/);
    const typo = audit(['-f', '-', '--config', config, '--policy', 'limit-memory=off'], big);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('got "limit-memory"');
    expect(typo.stderr).toContain('--policy limit-memory=off');
  });

  it('marks each violation with its effect: a warn is not listed as a deny', () => {
    const r = audit(['-f', `${fixtures}/bad.yaml`, '--policy', 'require-read-only-root-filesystem=warn']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ {5}deny {2}\[require-non-root-user\]/m);
    expect(r.stdout).toMatch(/^ {5}warn {2}\[require-read-only-root-filesystem\]/m);
    const json = JSON.parse(audit(['-f', `${fixtures}/bad.yaml`, '--policy', 'require-read-only-root-filesystem=warn', '-o', 'json']).stdout);
    const byPolicy = Object.fromEntries(json.results[0].violations.map((v: { policy: string }) => [v.policy, v]));
    expect(byPolicy['require-non-root-user']).toMatchObject({ effect: 'deny', deniesWhenEnforced: true });
    expect(byPolicy['require-read-only-root-filesystem']).toMatchObject({ effect: 'warn', deniesWhenEnforced: false });
  });

  it('takes the same output formats as scan, -o documented in --help', () => {
    const help = audit(['--help']);
    expect(help.stdout).toContain('-o, --output FORMAT');
    for (const format of ['table', 'json', 'yaml', 'sarif', 'junit']) expect(help.stdout).toContain(format);
    const yaml = audit(['-f', `${fixtures}/good.yaml`, '-o', 'yaml']);
    expect(yaml.code).toBe(0);
    expect(yaml.stdout).toMatch(/^apiVersion: portcullis\.dev\/audit\/v1$/m);
    expect(yaml.stdout).toContain('verdict: pass');
  });

  it('says "1 resource checked" and colours verdicts only when asked by the terminal, NO_COLOR winning', () => {
    const plain = audit(['-f', `${fixtures}/good.yaml`]);
    expect(plain.stdout).toContain('\n1 resource checked, 0 would be denied, 1 skipped\n');
    expect(plain.stdout).not.toContain('\u001b[');
    const colored = spawnSync(process.execPath, [cli, 'audit', '-f', `${fixtures}/bad.yaml`], { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '1', NO_COLOR: '' } });
    expect(colored.stdout).toContain('\u001b[31mDENY\u001b[0m');
    const noColor = spawnSync(process.execPath, [cli, 'audit', '-f', `${fixtures}/bad.yaml`], { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '1', NO_COLOR: '1' } });
    expect(noColor.stdout).not.toContain('\u001b[');
  });

  it('prints registry failures as readable lines, not JSON logs', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: '127.0.0.1:1/x:1' }] } };
    const r = audit(['-f', '-', '--registry'], JSON.stringify(pod));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('image config unavailable: 127.0.0.1:1');
    expect(r.stderr).toMatch(/^portcullis: warning: image look-up failed .*registry=127\.0\.0\.1:1/m);
    expect(r.stderr).not.toContain('{"level"');
  });
});
