// portcullis scan, PolicyReports, the enforce preview, the background audit Lease and owner events against a real
// kube-apiserver + kube-controller-manager (test/e2e/global-setup.ts).
import { POLICY_IDS } from '../../policies/index.js';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { clusterClient, waitForServiceAccount } from '../e2e/cluster.js';
import type { ClusterClient, ClusterInfo } from '../e2e/cluster.js';
import { createCa, issue } from '../e2e/pki.js';
import { run, waitFor } from '../e2e/proc.js';
import { CLI_PATH, REPO_ROOT } from '../e2e/portcullis.js';
import { createKubeClient, loadKubeConfig } from '../../src/kube/client.js';
import type { KubeClient } from '../../src/kube/client.js';
import { startBackgroundAudit } from '../../src/audit/background.js';
import type { BackgroundAudit } from '../../src/audit/background.js';
import { parseConfig } from '../../src/config/load.js';
import { createEngine } from '../../src/engine/evaluate.js';
import { decodeReview, encodeReview } from '../../src/admission/review.js';
import { createOwnerEventRecorder } from '../../src/events/owner-events.js';
import type { OwnerEventRecorder } from '../../src/events/owner-events.js';
import { INSTALL, requireTool } from '../helpers/require-tool.js';

// undefined outside the e2e run (the unit run's include also matches *.e2e.test.ts): everything here is skipped
const provided = requireTool('the e2e control plane', inject('cluster') !== undefined, INSTALL.cluster) ? (inject('cluster') as ClusterInfo) : undefined;
const cluster = provided ? clusterClient(provided) : (undefined as unknown as ClusterClient);
const NS_A = 'scan-e2e-a';
const NS_B = 'scan-e2e-b';
const NS_EVENTS = 'scan-e2e-events';
const IMAGE = 'registry.k8s.io/pause:3.10';

// the five policies this suite is about; every other built-in policy off, so the counts below stay theirs
const FIVE = ['require-non-root-user', 'require-drop-all-capabilities', 'disallow-latest-tag', 'require-read-only-root-filesystem', 'require-signed-images'];
const OTHERS = POLICY_IDS.filter((id) => !FIVE.includes(id)).map((id) => `  ${id}: { action: off }`).join('\n');
const CONFIG = `apiVersion: portcullis.dev/v1alpha1
kind: PortcullisConfig
mode: enforce
registry: { enabled: false }
policies:
  require-non-root-user: { action: deny }
  require-drop-all-capabilities: { action: deny }
  disallow-latest-tag: { action: deny }
  require-read-only-root-filesystem: { action: deny }
  require-signed-images: { action: off }
${OTHERS}
exclude:
  namespaces: [kube-system]
`;
// the same, with non-root only audited: the enforce preview shows what switching it would refuse
const AUDIT_NON_ROOT = CONFIG.replace('require-non-root-user: { action: deny }', 'require-non-root-user: { action: audit }');

const compliant = { runAsNonRoot: true, runAsUser: 1000, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };
const rootCtx = { ...compliant, runAsNonRoot: false, runAsUser: 0 };
const podSpec = (ctx: object) => ({ automountServiceAccountToken: false, containers: [{ name: 'app', image: IMAGE, securityContext: ctx }] });
const deployment = (name: string, ns: string, ctx: object, replicas = 2) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: podSpec(ctx) } },
  });
const pod = (name: string, ns: string, ctx: object) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: podSpec(ctx) });
const job = (name: string, ns: string, ctx: object) =>
  JSON.stringify({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: ns }, spec: { template: { spec: { ...podSpec(ctx), restartPolicy: 'Never' } } } });

let dir: string;
let configPath: string;
let auditConfigPath: string;
let client: KubeClient;

const kubectl = async (args: string[], input?: string) => {
  const r = await cluster.kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  return r.stdout;
};

interface ScanJson {
  summary: { workloads: number; pods: number; denied: number };
  stats: { calls: Record<string, number> };
  results: Array<{ kind: string; namespace: string; name: string; pods: number; verdict: string; violations: Array<{ policy: string }> }>;
}

async function scan(args: string[]) {
  const r = await run(process.execPath, [CLI_PATH, 'scan', '--kubeconfig', cluster.kubeconfig, '--no-progress', ...args], { cwd: REPO_ROOT });
  return r;
}

interface Report {
  metadata: { namespace: string; name: string; resourceVersion: string };
  summary: Record<string, number>;
  results: Array<{ policy: string; result: string; source: string; resources: Array<{ kind: string; name: string }>; message: string }>;
}
const reports = async (ns: string): Promise<Report[]> => (JSON.parse(await kubectl(['get', 'policyreports', '-n', ns, '-o', 'json'])) as { items: Report[] }).items;

// Waits until the controllers made the pods of a workload (count by label app=name).
async function waitForPods(ns: string, app: string, n: number): Promise<void> {
  await waitFor(`${n} pods of ${ns}/${app}`, async () => {
    const out = await kubectl(['get', 'pods', '-n', ns, '-l', `app=${app}`, '-o', 'name']);
    return out.trim().split('\n').filter(Boolean).length === n ? true : undefined;
  }, { timeoutMs: 60_000, intervalMs: 500 });
}

beforeAll(async () => {
  if (!provided) return;
  dir = mkdtempSync(join(tmpdir(), 'portcullis-scan-e2e-'));
  configPath = join(dir, 'config.yaml');
  auditConfigPath = join(dir, 'audit-non-root.yaml');
  writeFileSync(configPath, CONFIG);
  writeFileSync(auditConfigPath, AUDIT_NON_ROOT);
  client = createKubeClient(await loadKubeConfig({ kubeconfig: cluster.kubeconfig }));
  await kubectl(['apply', '-f', join(REPO_ROOT, 'deploy', 'crds')]);
  await kubectl(['wait', '--for=condition=Established', 'crd/policyreports.wgpolicyk8s.io', 'crd/clusterpolicyreports.wgpolicyk8s.io', '--timeout=60s']);
  // a new resource's storage answers 429 for a moment after the CRD is established
  await waitFor('policyreports served', async () => ((await cluster.kubectl(['get', 'policyreports', '-A'])).code === 0 ? true : undefined), { timeoutMs: 30_000 });
  for (const ns of [NS_A, NS_B, NS_EVENTS]) {
    // exempt from any portcullis webhook another suite registered; the events namespace gets this suite's own
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'portcullis.dev/mode': 'exempt', 'portcullis-audit-e2e': ns === NS_EVENTS ? 'events' : 'scan' } } }));
    await waitForServiceAccount(cluster, ns);
  }
  await kubectl(['apply', '-f', '-'], deployment('root-web', NS_A, rootCtx, 2));
  await kubectl(['apply', '-f', '-'], deployment('good-web', NS_A, compliant, 1));
  await kubectl(['apply', '-f', '-'], job('root-job', NS_A, rootCtx));
  await kubectl(['apply', '-f', '-'], pod('root-pod', NS_B, rootCtx));
  await waitForPods(NS_A, 'root-web', 2);
  await waitForPods(NS_A, 'good-web', 1);
  await waitFor('the job pod', async () => ((await kubectl(['get', 'pods', '-n', NS_A, '-l', 'job-name=root-job', '-o', 'name'])).trim() ? true : undefined), { timeoutMs: 60_000 });
});

afterAll(async () => {
  if (!provided) return;
  client?.close();
  for (const ns of [NS_A, NS_B, NS_EVENTS]) await cluster.kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']);
  await cluster.kubectl(['delete', 'validatingwebhookconfiguration', 'portcullis-audit-e2e', '--ignore-not-found']);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.runIf(provided)('portcullis scan against a real API server', () => {
  it('finds the seeded violations once per top controller, with the pods counted', async () => {
    const r = await scan(['--config', configPath, '-n', NS_A, '-n', NS_B, '-o', 'json']);
    expect(r.code, r.stderr).toBe(1);
    const doc = JSON.parse(r.stdout) as ScanJson;
    const v = Object.fromEntries(doc.results.map((x) => [`${x.namespace}/${x.kind}/${x.name}`, `${x.verdict}:${x.pods}`]));
    expect(v).toEqual({
      [`${NS_A}/Deployment/good-web`]: 'pass:1',
      [`${NS_A}/Deployment/root-web`]: 'deny:2',
      [`${NS_A}/Job/root-job`]: 'deny:1',
      [`${NS_B}/Pod/root-pod`]: 'deny:1',
    });
    expect(doc.results.find((x) => x.name === 'root-web')?.violations.map((x) => x.policy)).toEqual(['require-non-root-user']);
    expect(doc.stats.calls.GET).toBeGreaterThanOrEqual(16); // 8 kinds x 2 namespaces
  });

  it('prints a table, SARIF and JUnit', async () => {
    const table = await scan(['--config', configPath, '-n', NS_A]);
    expect(table.stdout).toContain(`DENY Deployment/${NS_A}/root-web  (2 pods)`);
    expect(table.stdout).toContain('[require-non-root-user] container "app" (containers[0]): runs as root');
    const sarif = JSON.parse((await scan(['--config', configPath, '-n', NS_A, '-o', 'sarif'])).stdout) as { runs: Array<{ results: Array<{ ruleId: string }> }> };
    expect(sarif.runs[0]?.results.map((x) => x.ruleId)).toEqual(['require-non-root-user', 'require-non-root-user']);
    expect((await scan(['--config', configPath, '-n', NS_A, '-o', 'junit'])).stdout).toContain(`<testsuite name="${NS_A}"`);
  });

  it('writes PolicyReports, updates them when a workload is fixed, deletes them when it is deleted', async () => {
    const first = await scan(['--config', configPath, '-n', NS_A, '-n', NS_B, '--write-reports', '--report-api', 'wgpolicyk8s', '-o', 'json']);
    expect(first.stderr).toContain('policy reports: 2 created');
    const [a] = await reports(NS_A);
    expect(a?.metadata.name).toBe('portcullis');
    expect(a?.summary).toMatchObject({ fail: 2, pass: 10 });
    const fail = a?.results.filter((x) => x.result === 'fail').map((x) => `${x.resources[0]?.kind}/${x.resources[0]?.name}`);
    expect(fail?.sort()).toEqual(['Deployment/root-web', 'Job/root-job']);
    expect(a?.results.every((x) => x.source === 'portcullis')).toBe(true);
    expect((await reports(NS_B))[0]?.summary).toMatchObject({ fail: 1 });

    // nothing changed: nothing rewritten
    const again = await scan(['--config', configPath, '-n', NS_A, '-n', NS_B, '--write-reports', '--report-api', 'wgpolicyk8s', '-o', 'json']);
    expect(again.stderr).toContain('0 created, 0 updated, 2 unchanged, 0 deleted');

    // fix the Deployment (a new ReplicaSet replaces the pods) and delete the job: the report is updated in place
    await kubectl(['patch', 'deployment', 'root-web', '-n', NS_A, '--type', 'json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/securityContext', value: compliant }])]);
    await kubectl(['delete', 'job', 'root-job', '-n', NS_A, '--cascade=foreground', '--wait=true']);
    await kubectl(['delete', 'pod', 'root-pod', '-n', NS_B, '--wait=true']);
    const fixed = await scan(['--config', configPath, '-n', NS_A, '-n', NS_B, '--write-reports', '--report-api', 'wgpolicyk8s', '-o', 'json']);
    expect(fixed.stderr).toContain('0 created, 1 updated, 0 unchanged, 1 deleted');
    expect(fixed.code, fixed.stdout).toBe(0);
    const [updated] = await reports(NS_A);
    expect(updated?.metadata.resourceVersion).not.toBe(a?.metadata.resourceVersion);
    expect(updated?.summary).toMatchObject({ fail: 0, pass: 8 });
    expect(updated?.results.some((x) => x.resources[0]?.name === 'root-job')).toBe(false);
    expect(await reports(NS_B)).toEqual([]);
  });

  it('previews enforcement: which workloads an audited policy would refuse, with the fix', async () => {
    await kubectl(['apply', '-f', '-'], deployment('legacy', NS_A, rootCtx, 1));
    await waitForPods(NS_A, 'legacy', 1);
    const r = await scan(['--config', auditConfigPath, '--preview-enforce', '--policy', 'require-non-root-user', '-n', NS_A, '-o', 'json']);
    expect(r.code, r.stderr).toBe(1);
    const preview = JSON.parse(r.stdout) as { summary: { workloads: number; pods: number }; namespaces: Array<{ namespace: string; policies: Array<{ policy: string; currentAction: string; workloads: Array<{ kind: string; name: string; alreadyEnforced: boolean; violations: Array<{ fix: string }> }> }> }> };
    expect(preview.summary).toEqual({ workloads: 1, pods: 1, namespaces: 1 });
    const p = preview.namespaces[0]?.policies[0];
    expect(p).toMatchObject({ policy: 'require-non-root-user', currentAction: 'audit' });
    expect(p?.workloads[0]).toMatchObject({ kind: 'Deployment', name: 'legacy', alreadyEnforced: false });
    expect(p?.workloads[0]?.violations[0]?.fix).toContain('runAsUser');
    const table = await scan(['--config', auditConfigPath, '--preview-enforce', '-n', NS_A]);
    expect(table.stdout).toContain('require-non-root-user (now: audit): 1 workload');
    expect(table.stdout).toContain('fix: set securityContext.runAsUser');
  });
});

describe.runIf(provided)('background audit', () => {
  it('two instances: one scan per interval (the Lease), reports and metrics from the leader, takeover when it stops', async () => {
    const config = parseConfig(CONFIG, 'e2e');
    const engine = createEngine({ config: () => config });
    const logger = pino({ level: 'silent' });
    const starts: Array<{ who: string; at: number }> = [];
    const registries = [new Registry(), new Registry()];
    const intervalMs = 3_000;
    const lease = { namespace: 'default', name: `portcullis-audit-e2e-${Date.now()}`, leaseDurationSeconds: 15 };
    const audits: BackgroundAudit[] = ['one', 'two'].map((who, i) =>
      startBackgroundAudit({
        client,
        engine,
        config: () => config,
        logger,
        registry: registries[i] as Registry,
        intervalMs,
        tickMs: 250,
        lease: { ...lease, identity: who },
        writeReports: true,
        reportApi: 'wgpolicyk8s',
        onScan: (_report, _sync, slot) => starts.push({ who, at: slot.getTime() }),
      }),
    );
    await waitFor('four background scans', async () => (starts.length >= 4 ? true : undefined), { timeoutMs: 60_000, intervalMs: 200 });
    const leaders = audits.filter((a) => a.leader());
    expect(leaders).toHaveLength(1);
    const leaderName = starts[0]?.who;
    expect(new Set(starts.map((s) => s.who))).toEqual(new Set([leaderName]));
    for (let i = 1; i < starts.length; i++) expect((starts[i]?.at ?? 0) - (starts[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(intervalMs);
    // the leader's metrics and reports
    const leaderIndex = leaderName === 'one' ? 0 : 1;
    const metrics = await (registries[leaderIndex] as Registry).metrics();
    expect(metrics).toContain(`portcullis_audit_violations{policy="require-non-root-user",namespace="${NS_A}",action="deny"} 1`);
    expect(metrics).toContain('portcullis_audit_leader 1');
    expect((await reports(NS_A))[0]?.results.some((x) => x.resources[0]?.name === 'legacy' && x.result === 'fail')).toBe(true);
    // the leader stops (and gives the Lease up): the other one takes over
    await audits[leaderIndex]?.stop();
    const before = starts.length;
    await waitFor('a scan by the other instance', async () => (starts.slice(before).some((s) => s.who !== leaderName) ? true : undefined), { timeoutMs: 60_000, intervalMs: 200 });
    await audits[1 - leaderIndex]?.stop();
    const byOther = starts.slice(before);
    expect(byOther.every((s) => s.who !== leaderName)).toBe(true);
  });
});

describe.runIf(provided)('owner events', () => {
  let server: Server;
  let recorder: OwnerEventRecorder;

  beforeAll(async () => {
    // the validate handler with the recorder hook, as src/server/validate.ts wires it
    const config = parseConfig(CONFIG, 'e2e');
    const engine = createEngine({ config: () => config });
    recorder = createOwnerEventRecorder({ client, logger: pino({ level: 'silent' }) });
    const ca = createCa('scan-e2e-webhook-ca');
    const leaf = issue(ca, { commonName: '127.0.0.1', ipAddresses: ['127.0.0.1'], server: true });
    server = createServer({ key: leaf.keyPem, cert: leaf.certPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const review = decodeReview(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          const decision = await engine.evaluate(
            { group: review.group, kind: review.kind, operation: review.operation, object: review.object, ...(review.namespace ? { namespace: review.namespace } : {}) },
            { deadline: Date.now() + 5_000 },
          );
          recorder.record(review, decision);
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(encodeReview(review, decision)));
        })();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await kubectl(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'portcullis-audit-e2e' },
      webhooks: [{
        name: 'owner-events.portcullis.dev',
        admissionReviewVersions: ['v1'],
        sideEffects: 'NoneOnDryRun',
        failurePolicy: 'Fail',
        timeoutSeconds: 10,
        clientConfig: { url: `https://127.0.0.1:${port}/validate`, caBundle: Buffer.from(ca.certPem).toString('base64') },
        namespaceSelector: { matchLabels: { 'portcullis-audit-e2e': 'events' } },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' }],
      }],
    }));
    await waitFor('the webhook in effect', async () => {
      const r = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: pod('probe', NS_EVENTS, rootCtx) });
      return r.code !== 0 && r.stderr.includes('owner-events.portcullis.dev') ? true : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500 });
  });

  afterAll(async () => {
    await cluster.kubectl(['delete', 'validatingwebhookconfiguration', 'portcullis-audit-e2e', '--ignore-not-found']);
    await recorder?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('a Deployment whose pods are denied gets one Warning event with the denial message; dry-run requests get none', async () => {
    await kubectl(['apply', '-f', '-'], deployment('denied-web', NS_EVENTS, rootCtx, 3));
    const events = await waitFor('the PodDenied event on the Deployment', async () => {
      const out = JSON.parse(await kubectl(['get', 'events.events.k8s.io', '-n', NS_EVENTS, '-o', 'json'])) as { items: Array<{ reason: string; type: string; note: string; regarding: { kind: string; name: string }; related?: { kind: string } }> };
      const mine = out.items.filter((e) => e.reason === 'PodDenied' && e.regarding.kind === 'Deployment' && e.regarding.name === 'denied-web');
      return mine.length > 0 ? mine : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    expect(events[0]).toMatchObject({ type: 'Warning', related: { kind: 'ReplicaSet' } });
    expect(events[0]?.note).toContain('[require-non-root-user] container "app" (containers[0]): runs as root');
    // kubectl describe shows it on the Deployment
    expect(await kubectl(['describe', 'deployment', 'denied-web', '-n', NS_EVENTS])).toContain('PodDenied');
    // the ReplicaSet keeps retrying (FailedCreate) but the owner gets one event per minute
    await waitFor('more denials', async () => (recorder.stats.rateLimited >= 2 ? true : undefined), { timeoutMs: 30_000, intervalMs: 250 });
    const after = JSON.parse(await kubectl(['get', 'events.events.k8s.io', '-n', NS_EVENTS, '--field-selector', 'reason=PodDenied', '-o', 'json'])) as { items: unknown[] };
    expect(after.items).toHaveLength(1);
    expect(recorder.stats.recorded).toBe(1);
    // a dry-run pod owned by another controller is denied without an event
    const owned = JSON.parse(pod('dry', NS_EVENTS, rootCtx)) as { metadata: Record<string, unknown> };
    owned.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'ReplicationController', name: 'rc-x', uid: '00000000-0000-0000-0000-000000000001', controller: true }];
    const dry = await cluster.kubectl(['create', '--dry-run=server', '-f', '-'], { input: JSON.stringify(owned) });
    expect(dry.code).not.toBe(0);
    await recorder.idle();
    expect(recorder.stats.recorded).toBe(1);
  });
});
