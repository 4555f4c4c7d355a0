// PolicyExceptions against a real kube-apiserver: the CRD's schema, the informer in the allowed namespace, admission
// until expiry and not after, exceptions elsewhere ignored, partial matches still refused for the rest, invalid
// exceptions ignored with a log line and an Event, and the background scan's reports (skip, then fail) in both report
// APIs. Prints the time from creating an exception to its first effect.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clusterClient, waitForServiceAccount } from './cluster.js';
import { httpsGet } from './http.js';
import { waitFor, type RunResult } from './proc.js';
import { CLI_PATH, REPO_ROOT, startPortcullis, type Portcullis } from './portcullis.js';
import { registerPortcullis, unregisterPortcullis } from './register.js';

const cluster = clusterClient(inject('cluster'));
const SYSTEM = 'exc-system'; // portcullis's own namespace (POD_NAMESPACE): the one exceptions are read from
const SHOP = 'exc-shop'; // workloads, enforced
const OTHER = 'exc-other'; // a team's namespace: exceptions created here are ignored
const SCAN = 'exc-scan'; // workloads for the background scan (labelled exempt: the webhook does not see them)
const SEC = 1000;

// the built-in policies and actions, without registry look-ups (no registry in this suite)
const CONFIG = 'apiVersion: portcullis.dev/v1alpha1\nkind: PortcullisConfig\nregistry: { enabled: false }\n';

const compliantContainer = (name: string) => ({
  name,
  image: 'registry.k8s.io/pause:3.10',
  securityContext: { runAsUser: 10001, runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
});
const rootContainer = (name: string) => ({ ...compliantContainer(name), securityContext: { ...compliantContainer(name).securityContext, runAsUser: 0, runAsNonRoot: false } });
const podOf = (name: string, containers: unknown[]) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: SHOP }, spec: { automountServiceAccountToken: false, containers } });

function exception(name: string, namespace: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'PolicyException',
    metadata: { name, namespace },
    spec: { policies: ['require-non-root-user'], reason: 'vendor image runs as root until its 2.0 release', expires: new Date(Date.now() + 3600 * SEC).toISOString(), ...spec },
  });
}

const kubectl = (args: string[], input?: string) => cluster.kubectl(args, input === undefined ? {} : { input });
const create = (manifest: string, ...extra: string[]) => kubectl(['create', '-f', '-', ...extra], manifest);
const dryRun = (manifest: string) => create(manifest, '--dry-run=server');
const show = (r: RunResult) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

let dir: string;
let portcullis: Portcullis;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-exceptions-e2e-'));
  const crds = await kubectl(['apply', '-f', join(REPO_ROOT, 'deploy', 'crds')]);
  expect(crds.code, show(crds)).toBe(0);
  const established = await kubectl(['wait', '--for=condition=Established', 'crd/policyexceptions.portcullis.dev', 'crd/reports.openreports.io', 'crd/policyreports.wgpolicyk8s.io', '--timeout=60s']);
  expect(established.code, show(established)).toBe(0);
  for (const ns of [SYSTEM, SHOP, OTHER, SCAN]) await kubectl(['create', 'namespace', ns]);
  await kubectl(['label', 'namespace', SCAN, 'portcullis.dev/mode=exempt']);
  await waitForServiceAccount(cluster, SHOP);
  portcullis = await startPortcullis({
    dir: join(dir, 'webhook'),
    config: CONFIG,
    args: ['--kubeconfig', cluster.kubeconfig, '--exceptions'],
    env: { POD_NAMESPACE: SYSTEM },
  });
  await registerPortcullis(cluster, portcullis, JSON.parse(podOf('probe', [rootContainer('app')])));
});

afterAll(async () => {
  await unregisterPortcullis(cluster, SHOP, portcullis);
  for (const ns of [SYSTEM, OTHER, SCAN]) await kubectl(['delete', 'namespace', ns, '--wait=false']);
  // the OpenReports CRDs go again: other suites on this control plane check wg-policy reports with --report-api auto
  await kubectl(['delete', '-f', join(REPO_ROOT, 'deploy', 'crds', 'openreports.io_reports.yaml'), '-f', join(REPO_ROOT, 'deploy', 'crds', 'openreports.io_clusterreports.yaml'), '--wait=false']);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('PolicyExceptions at admission', () => {
  it('an exception in the allowed namespace lets a matching Pod in until it expires, and then no longer', async () => {
    const pod = podOf('legacy-api', [rootContainer('app')]);
    const refused = await dryRun(pod);
    expect(refused.code, show(refused)).not.toBe(0);
    expect(refused.stderr).toContain('[require-non-root-user] container "app" (containers[0])');

    const expires = new Date(Date.now() + 20 * SEC);
    const t0 = Date.now();
    const created = await create(exception('legacy-root', SYSTEM, { match: { namespaces: [SHOP], names: ['legacy-*'] }, expires: expires.toISOString() }));
    expect(created.code, show(created)).toBe(0);
    const admitted = await waitFor('the exception in effect', async () => {
      const r = await dryRun(pod);
      return r.code === 0 ? r : undefined;
    }, { timeoutMs: 15 * SEC, intervalMs: 50 });
    const firstEffectMs = Date.now() - t0;
    const loaded = portcullis.logLines().find((l) => l.msg === 'exception loaded' && l.exception === `${SYSTEM}/legacy-root`);
    const informerMs = Number(loaded?.time) - t0;
    console.log(`[exceptions e2e] created -> loaded by the informer: ${informerMs} ms; created -> first admitted dry run: ${firstEffectMs} ms`);
    expect(admitted.stderr).toContain(`Warning: exception ${SYSTEM}/legacy-root (until ${expires.toISOString()}) allows: [require-non-root-user]`);
    expect(admitted.stderr).toMatch(new RegExp(`Warning: exception ${SYSTEM}/legacy-root expires in \\d+ min`));

    const real = await create(pod);
    expect(real.code, show(real)).toBe(0);
    const metrics = await httpsGet(`${portcullis.url}/metrics`, { ca: portcullis.caPem });
    expect(metrics.body).toMatch(new RegExp(`portcullis_exception_uses_total\\{exception="${SYSTEM}/legacy-root",policy="require-non-root-user"\\} [1-9]`));
    expect(portcullis.logLines().some((l) => l.msg === 'exception used' && l.exception === `${SYSTEM}/legacy-root` && l.workload === 'legacy-api')).toBe(true);

    // expired: the same Pod (another name, same glob) is refused again, at once
    await new Promise((r) => setTimeout(r, Math.max(0, expires.getTime() - Date.now() + 500)));
    const after = await dryRun(podOf('legacy-api-2', [rootContainer('app')]));
    expect(after.code, show(after)).not.toBe(0);
    expect(after.stderr).toContain('[require-non-root-user] container "app" (containers[0])');
    expect(after.stderr).not.toContain('exception');
    await waitFor('the expiry in the log', async () => portcullis.logLines().find((l) => l.msg === 'exception expired: it applies nowhere now' && l.exception === `${SYSTEM}/legacy-root`), { timeoutMs: 15 * SEC });
    const decision = portcullis.logLines().find((l) => l.msg === 'admission decision' && l.name === 'legacy-api' && l.dryRun === false);
    expect(decision?.exceptions).toEqual([`${SYSTEM}/legacy-root`]);
  });

  it('an exception created in another namespace is ignored', async () => {
    const created = await create(exception('self-exempt', OTHER, { match: { namespaces: [SHOP], names: ['self-*'] } }));
    expect(created.code, show(created)).toBe(0);
    // a control exception in the allowed namespace, created after it: once it applies, the other had its chance too
    await create(exception('control', SYSTEM, { match: { namespaces: [SHOP], names: ['control-*'] } }));
    await waitFor('the control exception in effect', async () => ((await dryRun(podOf('control-api', [rootContainer('app')]))).code === 0 ? true : undefined), { timeoutMs: 15 * SEC, intervalMs: 100 });
    const r = await dryRun(podOf('self-api', [rootContainer('app')]));
    expect(r.code, show(r)).not.toBe(0);
    expect(r.stderr).toContain('[require-non-root-user]');
    expect(portcullis.logLines().some((l) => typeof l.exception === 'string' && l.exception.startsWith(`${OTHER}/`))).toBe(false);
  });

  it('a Pod that matches only in part is still refused for the rest: another container, another policy', async () => {
    await create(exception('app-only', SYSTEM, { match: { namespaces: [SHOP], names: ['partial-*'] }, containers: ['app'] }));
    await waitFor('the exception in effect', async () => ((await dryRun(podOf('partial-probe', [rootContainer('app')]))).code === 0 ? true : undefined), { timeoutMs: 15 * SEC, intervalMs: 100 });
    const sidecar = await dryRun(podOf('partial-sidecar', [rootContainer('app'), rootContainer('sidecar')]));
    expect(sidecar.code, show(sidecar)).not.toBe(0);
    const denial = (r: RunResult) => r.stderr.slice(r.stderr.indexOf('denied the request:'));
    expect(denial(sidecar)).toContain('[require-non-root-user] container "sidecar" (containers[1])');
    expect(denial(sidecar)).not.toContain('[require-non-root-user] container "app"');
    expect(sidecar.stderr).toContain(`Warning: exception ${SYSTEM}/app-only`);
    const writable = { ...rootContainer('app'), securityContext: { ...rootContainer('app').securityContext, readOnlyRootFilesystem: false } };
    const otherPolicy = await dryRun(podOf('partial-writable', [writable]));
    expect(otherPolicy.code, show(otherPolicy)).not.toBe(0);
    expect(denial(otherPolicy)).toContain('[require-read-only-root-filesystem] container "app"');
    expect(denial(otherPolicy)).not.toContain('[require-non-root-user]');
  });
});

describe('bad exceptions', () => {
  it('the CRD schema refuses no reason, no expiry, an unknown policy id and a selector of every workload', async () => {
    const base = { match: { namespaces: [SHOP], names: ['bad-*'] } };
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['no-reason', { ...base, reason: undefined }, 'spec.reason: Required value'],
      ['no-expiry', { ...base, expires: undefined }, 'spec.expires: Required value'],
      ['bad-expiry', { ...base, expires: 'next week' }, 'spec.expires'],
      ['unknown-policy', { ...base, policies: ['require-everything'] }, 'Unsupported value: "require-everything"'],
      ['everything', { match: { namespaces: [SHOP] } }, 'give names or a selector'],
      ['empty-selector', { match: { namespaces: [SHOP], selector: {} } }, 'an empty selector selects every workload'],
      ['star', { match: { namespaces: [SHOP], names: ['*'] } }, 'spec.match.names[0]'],
    ];
    for (const [name, spec, message] of cases) {
      const r = await create(exception(name, SYSTEM, spec));
      expect(r.code, `${name}: ${show(r)}`).not.toBe(0);
      expect(r.stderr, name).toContain(message);
    }
  });

  it('an expiry beyond the maximum is ignored with a log line and an Event on the exception, never applied', async () => {
    const created = await create(exception('too-long', SYSTEM, { match: { namespaces: [SHOP], names: ['long-*'] }, expires: new Date(Date.now() + 100 * 86_400 * SEC).toISOString() }));
    expect(created.code, show(created)).toBe(0);
    const line = await waitFor('the ignored-exception log line', async () => portcullis.logLines().find((l) => l.msg === 'exception ignored: it applies nowhere until fixed' && l.exception === `${SYSTEM}/too-long`), { timeoutMs: 15 * SEC });
    expect(line.codes).toBe('EXPIRES_TOO_LATE');
    const event = await waitFor('the Event on the exception', async () => {
      const r = await kubectl(['get', 'events.events.k8s.io', '-n', SYSTEM, '-o', 'json']);
      const items = (JSON.parse(r.stdout || '{"items":[]}') as { items: Array<{ reason: string; note: string; type: string; regarding: { kind: string; name: string } }> }).items;
      return items.find((e) => e.reason === 'ExceptionIgnored' && e.regarding.kind === 'PolicyException' && e.regarding.name === 'too-long');
    }, { timeoutMs: 15 * SEC });
    expect(event.type).toBe('Warning');
    expect(event.note).toContain('spec.expires: expected at most 90 days ahead');
    const r = await dryRun(podOf('long-api', [rootContainer('app')]));
    expect(r.code, show(r)).not.toBe(0);
    const ready = await httpsGet(`${portcullis.url}/readyz`, { ca: portcullis.caPem });
    expect(ready.status).toBe(200);
  });
});

describe('exceptions for custom policies', () => {
  it('the CRD takes custom:<id>; portcullis ignores one naming no custom policy of its config, with an Event', async () => {
    const created = await create(exception('custom-typo', SYSTEM, { match: { namespaces: [SHOP], names: ['custom-*'] }, policies: ['custom:no-such-policy'] }));
    expect(created.code, show(created)).toBe(0);
    const line = await waitFor('the ignored-exception log line', async () => portcullis.logLines().find((l) => l.msg === 'exception ignored: it applies nowhere until fixed' && l.exception === `${SYSTEM}/custom-typo`), { timeoutMs: 15 * SEC });
    expect(line.codes).toBe('UNKNOWN_POLICY');
    expect(line.problems).toContain('got "custom:no-such-policy"');
  });
});

interface ReportResult {
  policy: string;
  result: string;
  resources: Array<{ name: string }>;
  properties?: Record<string, string>;
}

describe('the background scan', () => {
  for (const [api, resource] of [['openreports', 'reports.openreports.io'], ['wgpolicyk8s', 'policyreports.wgpolicyk8s.io']] as const) {
    it(`marks covered results skip and, after expiry, fail (${resource})`, async () => {
      const name = `legacy-web-${api}`;
      const deployment = JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: SCAN },
        spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { automountServiceAccountToken: false, containers: [rootContainer('app')] } } },
      });
      expect((await create(deployment)).code).toBe(0);
      const expires = new Date(Date.now() + 30 * SEC).toISOString();
      expect((await create(exception(`scan-${api}`, SYSTEM, { match: { namespaces: [SCAN], kinds: ['Deployment'], names: [name] }, expires }))).code).toBe(0);
      const scanner = await startPortcullis({
        dir: join(dir, `scan-${api}`),
        config: CONFIG,
        args: ['--kubeconfig', cluster.kubeconfig, '--exceptions', '--audit-interval', '0.05', '--audit-reports', '--report-api', api, '--audit-lease-namespace', SYSTEM, '--audit-lease-name', `exc-scan-${api}`],
        env: { POD_NAMESPACE: SYSTEM, POD_NAME: `scanner-${api}` },
      });
      try {
        const resultFor = async (): Promise<ReportResult | undefined> => {
          const r = await kubectl(['get', resource, 'portcullis', '-n', SCAN, '-o', 'json']);
          if (r.code !== 0) return undefined;
          const report = JSON.parse(r.stdout) as { apiVersion: string; results?: ReportResult[] };
          expect(report.apiVersion).toBe(api === 'openreports' ? 'openreports.io/v1alpha1' : 'wgpolicyk8s.io/v1alpha2');
          return report.results?.find((x) => x.policy === 'require-non-root-user' && x.resources[0]?.name === name);
        };
        const skip = await waitFor('a skip result', async () => ((await resultFor())?.result === 'skip' ? resultFor() : undefined), { timeoutMs: 25 * SEC, intervalMs: 500 });
        expect(skip?.properties).toMatchObject({ exception: `${SYSTEM}/scan-${api}`, expires: new Date(expires).toISOString() });
        // portcullis scan reads the same exceptions from the cluster with --exception-namespace
        const scanCli = (extra: string[]) => spawnSync(process.execPath, [CLI_PATH, 'scan', '--kubeconfig', cluster.kubeconfig, '-n', SCAN, '--no-progress', '--offline', '-o', 'json', ...extra], { encoding: 'utf8' });
        const verdict = (r: ReturnType<typeof scanCli>) => (JSON.parse(r.stdout) as { results: Array<{ name: string; verdict: string }> }).results.find((x) => x.name === name)?.verdict;
        expect(verdict(scanCli(['--exception-namespace', SYSTEM]))).toBe('pass');
        expect(verdict(scanCli([]))).toBe('deny');
        const fail = await waitFor('a fail result after expiry', async () => ((await resultFor())?.result === 'fail' ? resultFor() : undefined), { timeoutMs: 60 * SEC, intervalMs: 500 });
        expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expires));
        expect(fail?.properties?.exception).toBeUndefined();
      } finally {
        await scanner.stop();
      }
    });
  }
});
