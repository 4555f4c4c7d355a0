// The chart against the real API server: every rendering accepted by `kubectl apply --dry-run=server`, and
// `helm install`, `helm upgrade`, `helm uninstall` (no --wait: no kubelet runs pods) leaving exactly the expected
// objects. Two local portcullis processes play the pods: they run the Deployment's own args as the chart's
// ServiceAccount (a TokenRequest token), so the RBAC is proven sufficient, and they create the certificate Secret
// and patch the caBundle the way the pods would. After uninstall nothing is left, not even that Secret.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { clusterClient } from '../e2e/cluster.js';
import type { ClusterClient } from '../e2e/cluster.js';
import { run, waitFor } from '../e2e/proc.js';
import type { RunResult } from '../e2e/proc.js';
import { CHART, haveHelm, helm, HELM, one, parseObjects, templateText, valueFlags } from './helm.js';
import type { K8sObject, Values } from './helm.js';
import { countCerts, httpsRequest, issuedByBundle, serviceAccountKubeconfig, startServe, webhookBundles } from './kube.js';
import type { Serve } from './kube.js';
import { providedCerts } from './pki.js';
import { INSTALL, requireTool } from '../helpers/require-tool.js';

const info = inject('cluster');
const RELEASE = 'pkg';
const NS = 'pkg-helm';
const FULL = 'pkg-portcullis';
const DRY_NS = 'pkg-dryrun';

/** cert-manager and Prometheus-operator kinds need their CRDs, which this control plane does not have */
const NEEDS_CRDS = new Set(['cert-manager.io/v1', 'monitoring.coreos.com/v1']);

describe.runIf(requireTool('the e2e control plane', info !== undefined, INSTALL.cluster) && requireTool('helm', haveHelm, INSTALL.helm))('helm chart on the e2e control plane', () => {
  let client: ClusterClient;
  let dir: string;
  let helmEnv: NodeJS.ProcessEnv;
  const replicas: Serve[] = [];
  const h = (args: string[]) => helm([...args, '--kubeconfig', info.kubeconfig], { env: helmEnv });

  // Names of the objects labelled with the release, by kind (cluster-scoped kinds included).
  const releaseObjects = async (): Promise<Record<string, string[]>> => {
    const kinds = 'deployments,services,serviceaccounts,configmaps,secrets,poddisruptionbudgets,roles,rolebindings,networkpolicies';
    const ns = await client.kubectl(['get', kinds, '-n', NS, '-l', `app.kubernetes.io/instance=${RELEASE}`, '-o', 'json']);
    const cluster = await client.kubectl(['get', 'clusterroles,clusterrolebindings,validatingwebhookconfigurations', '-l', `app.kubernetes.io/instance=${RELEASE}`, '-o', 'json']);
    const out: Record<string, string[]> = {};
    for (const res of [ns, cluster]) {
      expect(res.code, res.stderr).toBe(0);
      for (const item of (JSON.parse(res.stdout) as { items: K8sObject[] }).items) (out[item.kind] ??= []).push(item.metadata.name);
    }
    return out;
  };

  beforeAll(async () => {
    client = clusterClient(info);
    dir = mkdtempSync(join(tmpdir(), 'portcullis-helm-e2e-'));
    helmEnv = { HELM_CACHE_HOME: join(dir, 'cache'), HELM_CONFIG_HOME: join(dir, 'config'), HELM_DATA_HOME: join(dir, 'data') };
    for (const ns of [NS, DRY_NS]) expect((await client.kubectl(['create', 'namespace', ns])).code).toBe(0);
  });

  afterAll(async () => {
    for (const r of replicas) await r.stop();
    if (client) {
      h(['uninstall', RELEASE, '-n', NS]);
      // never leave a Fail webhook behind for the other suites
      await client.kubectl(['delete', 'validatingwebhookconfiguration', FULL, '--ignore-not-found']);
      await client.kubectl(['delete', 'namespace', NS, DRY_NS, '--ignore-not-found', '--wait=false']);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every certificate mode, audit mode and every option is accepted by the API server (apply --dry-run=server)', async () => {
    const certs = providedCerts('pkg-dryrun-portcullis', DRY_NS);
    const providedFile = join(dir, 'provided.yaml');
    writeFileSync(providedFile, stringify({ certificates: { mode: 'provided', provided: { cert: certs.cert, key: certs.key, caBundle: certs.ca } } }));
    const variants: Array<[Values, string[]]> = [
      [{}, []],
      [{ 'certificates.mode': 'certManager' }, []],
      [{}, ['-f', providedFile]],
      [{ 'config.mode': 'audit', 'webhook.failurePolicy': 'Ignore' }, []],
      [{ 'networkPolicy.enabled': 'true', 'networkPolicy.restrictEgress': 'true', 'networkPolicy.apiServerCIDRs[0]': '10.0.0.0/8', 'serviceMonitor.enabled': 'true', 'config.registry.usePullSecrets': 'true', 'image.digest': `sha256:${'b'.repeat(64)}` }, []],
      // background audit with PolicyReports (the CRDs, the scan's ClusterRole, the Lease Role) and owner events
      [{ 'audit.intervalMinutes': '60', 'audit.policyReports': 'true', 'ownerEvents.enabled': 'true', 'policyReports.installCRDs': 'true' }, []],
      [{ 'ownerEvents.enabled': 'false', 'policyReports.installCRDs': 'false' }, []],
    ];
    for (const [values, extra] of variants) {
      const objects = parseObjects(templateText(values, 'pkg-dryrun', DRY_NS, extra));
      // the dry-run helm test's ServiceAccount, Role and Pod (in another namespace, needing the ServiceAccount to
      // exist) are proven by `helm test` below
      const helmTestDenies = (o: K8sObject) => o.metadata.annotations?.['helm.sh/hook'] === 'test' && !o.metadata.name.endsWith('-test-readyz');
      const checkable = objects.filter((o) => !NEEDS_CRDS.has(o.apiVersion) && !helmTestDenies(o));
      expect(checkable.length).toBeGreaterThanOrEqual(7);
      const res = await client.kubectl(['apply', '--dry-run=server', '-n', DRY_NS, '-f', '-'], { input: checkable.map((o) => stringify(o)).join('---\n') });
      expect(res.code, `${JSON.stringify(values)}: ${res.stderr}`).toBe(0);
      expect(res.stdout).toContain('(server dry run)');
    }
  });

  it('helm install creates exactly the chart objects; replicas running as its ServiceAccount create the Secret and patch the caBundle', async () => {
    // the PolicyReport CRDs: the chart's unless another suite on this control plane applied deploy/crds already
    // (Helm will not adopt objects it did not create: the policyReports.installCRDs=false case of docs/install.md)
    const crdsBefore = (await client.kubectl(['get', 'crd', 'policyreports.wgpolicyk8s.io', '--ignore-not-found', '-o', 'name'])).stdout.trim() !== '';
    const exceptionCrdBefore = (await client.kubectl(['get', 'crd', 'policyexceptions.portcullis.dev', '--ignore-not-found', '-o', 'name'])).stdout.trim() !== '';
    const install = h(['install', RELEASE, CHART, '-n', NS, ...valueFlags({ 'certificates.self.pollInterval': '500ms', 'policyReports.installCRDs': String(!crdsBefore), 'exceptions.installCRD': String(!exceptionCrdBefore) })]);
    expect(install.code, install.stderr).toBe(0);
    expect(await releaseObjects()).toEqual({
      Deployment: [FULL],
      Service: [FULL],
      ServiceAccount: [FULL],
      ConfigMap: [`${FULL}-config`],
      PodDisruptionBudget: [FULL],
      Role: [`${FULL}-certs`, `${FULL}-exceptions`],
      RoleBinding: [`${FULL}-certs`, `${FULL}-exceptions`],
      ClusterRole: [`${FULL}-exception-approver`, `${FULL}-exception-viewer`, `${FULL}-owner-events`, `${FULL}-webhook-ca`],
      ClusterRoleBinding: [`${FULL}-owner-events`, `${FULL}-webhook-ca`],
      ValidatingWebhookConfiguration: [FULL],
    });
    for (const crd of ['policyreports.wgpolicyk8s.io', 'clusterpolicyreports.wgpolicyk8s.io', 'reports.openreports.io', 'clusterreports.openreports.io', 'policyexceptions.portcullis.dev']) {
      const established = await client.kubectl(['wait', '--for=condition=Established', `crd/${crd}`, '--timeout=60s']);
      expect(established.code, established.stderr).toBe(0);
    }

    // the pods' command line, run locally with the ServiceAccount's credentials
    const manifest = parseObjects(h(['get', 'manifest', RELEASE, '-n', NS]).stdout);
    const container = (one(manifest, 'Deployment') as K8sObject & { spec: { template: { spec: { containers: Array<{ args: string[] }> } } } }).spec.template.spec.containers[0]!;
    const configMap = one(manifest, 'ConfigMap') as K8sObject & { data: Record<string, string> };
    const configFile = join(dir, 'config.yaml');
    writeFileSync(configFile, configMap.data['config.yaml']!.replace(/enabled: true/, 'enabled: false'));
    const kubeconfig = await serviceAccountKubeconfig(client, NS, FULL, join(dir, 'sa.kubeconfig'));
    const args = [
      ...container.args.slice(1).map((a) => (a.startsWith('--config=') ? `--config=${configFile}` : a)).filter((a) => !a.startsWith('--port=')),
      '--kubeconfig', kubeconfig,
      '--tls-san', '127.0.0.1',
    ];
    replicas.push(...(await Promise.all([0, 1].map((i) => startServe(dir, `pod-${i}`, args, { POD_NAMESPACE: NS })))));

    const bundles = await waitFor('caBundle on both webhooks', async () => {
      const b = await webhookBundles(info, FULL);
      return b.length === 2 && b.every((x) => countCerts(x) === 1) ? b : undefined;
    });
    expect(new Set(bundles).size).toBe(1);
    // what the API server does: call https://pkg-portcullis.pkg-helm.svc with the caBundle
    for (const r of replicas) {
      const res = await httpsRequest(`${r.url}/readyz`, { ca: bundles[0]! }, { servername: `${FULL}.${NS}.svc` });
      expect(res.status).toBe(200);
      expect(issuedByBundle(res.peer!, bundles[0]!)).toBe(true);
    }
    const secret = JSON.parse((await client.kubectl(['get', 'secret', `${FULL}-tls`, '-n', NS, '-o', 'json'])).stdout) as K8sObject & {
      metadata: { ownerReferences: Array<{ kind: string; name: string }> };
    };
    expect(secret.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'ValidatingWebhookConfiguration', name: FULL })]);

    // the helm test pod's own script, with the CA its secretKeyRef would inject from the Secret portcullis wrote
    const testPod = one(parseObjects(templateText({}, RELEASE, NS)), 'Pod', `${FULL}-test-readyz`) as K8sObject & {
      spec: { containers: Array<{ command: string[]; env: Array<{ name: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }> }> };
    };
    const testContainer = testPod.spec.containers[0]!;
    const ref = testContainer.env.find((e) => e.name === 'CA')!.valueFrom!.secretKeyRef;
    const ca = (await client.kubectl(['get', 'secret', ref.name, '-n', NS, '-o', `jsonpath={.data.${ref.key.replaceAll('.', '\\.')}}`])).stdout;
    const script = spawnSync(process.execPath, ['-e', testContainer.command[2]!], {
      env: { URL: `${replicas[0]!.url}/readyz`, CA: Buffer.from(ca, 'base64').toString('utf8') },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(script.status, script.stdout + script.stderr).toBe(0);

    // least privilege: nothing beyond its own Secret and its own webhook configuration
    const sa = `system:serviceaccount:${NS}:${FULL}`;
    const can = async (...a: string[]) => (await client.kubectl(['auth', 'can-i', '--as', sa, ...a])).stdout.trim();
    expect(await can('update', `secret/${FULL}-tls`, '-n', NS)).toBe('yes');
    expect(await can('get', 'secret/other', '-n', NS)).toBe('no');
    expect(await can('list', 'secrets', '-n', NS)).toBe('no');
    expect(await can('get', 'secrets', '-n', 'default')).toBe('no');
    expect(await can('patch', `validatingwebhookconfigurations/${FULL}`)).toBe('yes');
    expect(await can('patch', 'validatingwebhookconfigurations/other')).toBe('no');
    expect(await can('delete', `validatingwebhookconfigurations/${FULL}`)).toBe('no');
    // owner events (on by default): create events, read the ReplicaSet or Job a denied pod names, nothing more
    expect(await can('create', 'events.events.k8s.io', '-n', 'default')).toBe('yes');
    expect(await can('get', 'replicasets.apps', '-n', 'default')).toBe('yes');
    expect(await can('get', 'jobs.batch', '-n', 'default')).toBe('yes');
    expect(await can('list', 'replicasets.apps', '-n', 'default')).toBe('no');
    expect(await can('delete', 'events.events.k8s.io', '-n', 'default')).toBe('no');
    // no background audit by default
    expect(await can('list', 'pods', '-A')).toBe('no');
  });

  it('helm upgrade applies changes and keeps the patched caBundle and the Secret', async () => {
    const before = await webhookBundles(info, FULL);
    const secretBefore = (await client.kubectl(['get', 'secret', `${FULL}-tls`, '-n', NS, '-o', 'jsonpath={.data.ca\\.crt}'])).stdout;
    const upgrade = h(['upgrade', RELEASE, CHART, '-n', NS, '--reuse-values', ...valueFlags({ 'webhook.timeoutSeconds': '5', replicaCount: '2', 'audit.intervalMinutes': '60' })]);
    expect(upgrade.code, upgrade.stderr).toBe(0);
    const vwc = JSON.parse((await client.kubectl(['get', 'validatingwebhookconfiguration', FULL, '-o', 'json'])).stdout) as { webhooks: Array<{ timeoutSeconds: number }> };
    expect(vwc.webhooks.map((w) => w.timeoutSeconds)).toEqual([5, 5]);
    expect(await webhookBundles(info, FULL)).toEqual(before);
    expect((await client.kubectl(['get', 'secret', `${FULL}-tls`, '-n', NS, '-o', 'jsonpath={.data.ca\\.crt}'])).stdout).toBe(secretBefore);
    expect((await client.kubectl(['get', 'deployment', FULL, '-n', NS, '-o', 'jsonpath={.spec.replicas}'])).stdout).toBe('2');
    const objects = await releaseObjects();
    expect(Object.keys(objects)).toHaveLength(10);
    // the background audit, now on: its ClusterRole and the Lease Role, and exactly what they allow
    expect(objects.Role?.sort()).toEqual([`${FULL}-audit-lease`, `${FULL}-certs`, `${FULL}-exceptions`]);
    expect(objects.ClusterRole?.sort()).toEqual([`${FULL}-audit`, `${FULL}-exception-approver`, `${FULL}-exception-viewer`, `${FULL}-owner-events`, `${FULL}-webhook-ca`]);
    const can = async (...a: string[]) => (await client.kubectl(['auth', 'can-i', '--as', `system:serviceaccount:${NS}:${FULL}`, ...a])).stdout.trim();
    for (const resource of ['pods', 'replicationcontrollers', 'deployments.apps', 'replicasets.apps', 'statefulsets.apps', 'daemonsets.apps', 'jobs.batch', 'cronjobs.batch']) {
      expect(await can('list', resource, '-A'), resource).toBe('yes');
    }
    expect(await can('get', 'pods', '-n', 'default')).toBe('no');
    for (const verb of ['get', 'list', 'create', 'update', 'delete']) {
      expect(await can(verb, 'policyreports.wgpolicyk8s.io', '-n', 'default'), verb).toBe('yes');
      expect(await can(verb, 'clusterpolicyreports.wgpolicyk8s.io'), verb).toBe('yes');
      expect(await can(verb, 'reports.openreports.io', '-n', 'default'), verb).toBe('yes');
      expect(await can(verb, 'clusterreports.openreports.io'), verb).toBe('yes');
    }
    // PolicyExceptions: read and watched in the release namespace only
    for (const verb of ['get', 'list', 'watch']) expect(await can(verb, 'policyexceptions.portcullis.dev', '-n', NS), verb).toBe('yes');
    expect(await can('list', 'policyexceptions.portcullis.dev', '-n', 'default')).toBe('no');
    expect(await can('create', 'policyexceptions.portcullis.dev', '-n', NS)).toBe('no');
    expect(await can('patch', 'policyreports.wgpolicyk8s.io', '-n', 'default')).toBe('no');
    expect(await can('create', 'leases.coordination.k8s.io', '-n', NS)).toBe('yes');
    expect(await can('update', `leases.coordination.k8s.io/${FULL}-audit`, '-n', NS)).toBe('yes');
    expect(await can('update', 'leases.coordination.k8s.io/other', '-n', NS)).toBe('no');
    expect(await can('create', 'leases.coordination.k8s.io', '-n', 'default')).toBe('no');
  });

  it('helm test: the server-side dry-run of a root Pod is refused by portcullis through the API server', async () => {
    // the API server reaches the local replicas: each webhook's Service becomes the first replica's URL (its
    // certificate carries 127.0.0.1); the self-managed caBundle stays as the replicas patched it
    const vwc = JSON.parse((await client.kubectl(['get', 'validatingwebhookconfiguration', FULL, '-o', 'json'])).stdout) as {
      webhooks: Array<{ clientConfig: { service: { path: string }; caBundle: string } }>;
    };
    const routed = vwc.webhooks.map((w, i) => ({ op: 'replace', path: `/webhooks/${i}/clientConfig`, value: { url: `${replicas[0]!.url}${w.clientConfig.service.path}`, caBundle: w.clientConfig.caBundle } }));
    const patched = await client.kubectl(['patch', 'validatingwebhookconfiguration', FULL, '--type=json', '-p', JSON.stringify(routed)]);
    expect(patched.code, patched.stderr).toBe(0);

    // no kubelet runs here: each test pod helm creates is run locally with its own command, env and ServiceAccount
    // token, and its exit status is written to the pod's status, as a kubelet would
    const api = new URL(info.server);
    const saDir = join(dir, 'test-sa');
    mkdirSync(saDir, { recursive: true });
    writeFileSync(join(saDir, 'ca.crt'), readFileSync(info.caPath));
    type TestPod = K8sObject & { status?: { phase?: string }; spec: { serviceAccountName?: string; containers: Array<{ command: string[]; env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }> }> } };
    const playPod = async (pod: TestPod): Promise<RunResult> => {
      const c = pod.spec.containers[0]!;
      const env: NodeJS.ProcessEnv = { KUBERNETES_SERVICE_HOST: api.hostname, KUBERNETES_SERVICE_PORT: api.port, SERVICE_ACCOUNT_DIR: saDir };
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        env[e.name] = ref
          ? Buffer.from((await client.kubectl(['get', 'secret', ref.name, '-n', NS, '-o', `jsonpath={.data.${ref.key.replaceAll('.', '\\.')}}`])).stdout, 'base64').toString('utf8')
          : e.value?.replace(`https://${FULL}.${NS}.svc:443`, replicas[0]!.url);
      }
      if (pod.spec.serviceAccountName) {
        const token = await client.kubectl(['create', 'token', pod.spec.serviceAccountName, '-n', NS, '--duration', '10m']);
        expect(token.code, token.stderr).toBe(0);
        writeFileSync(join(saDir, 'token'), token.stdout.trim());
      }
      const result = await run(process.execPath, ['-e', c.command[2]!], { env, timeoutMs: 60_000 });
      const phase = result.code === 0 ? 'Succeeded' : 'Failed';
      const status = await client.kubectl(['patch', 'pod', pod.metadata.name, '-n', NS, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase } })]);
      expect(status.code, status.stderr).toBe(0);
      return result;
    };
    const played = new Map<string, RunResult>();
    let finished = false;
    const test = run(HELM, ['test', RELEASE, '-n', NS, '--timeout', '3m', '--kubeconfig', info.kubeconfig], { env: { ...process.env, ...helmEnv }, timeoutMs: 240_000 }).finally(() => (finished = true));
    while (!finished) {
      const listed = await client.kubectl(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/component=test', '-o', 'json']);
      for (const pod of (JSON.parse(listed.stdout || '{"items":[]}') as { items: TestPod[] }).items) {
        if (played.has(pod.metadata.name) || (pod.status?.phase ?? 'Pending') !== 'Pending') continue;
        played.set(pod.metadata.name, await playPod(pod));
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const result = await test;
    const denies = played.get(`${FULL}-test-denies`);
    expect(denies, `helm test ran no ${FULL}-test-denies pod: ${result.stdout}${result.stderr}`).toBeDefined();
    expect(denies!.stdout).toContain('refused by portcullis, as expected');
    expect(denies!.stdout).toContain('admission webhook "enforce.portcullis.dev" denied the request');
    expect(denies!.stdout).toContain('[require-non-root-user] container "app" (containers[0]): runs as root');
    expect(played.get(`${FULL}-test-readyz`)?.code).toBe(0);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`TEST SUITE: +${FULL}-test-denies[\\s\\S]*Phase: +Succeeded`));

    // back to the Service, as the chart renders it
    const restore = vwc.webhooks.map((w, i) => ({ op: 'replace', path: `/webhooks/${i}/clientConfig`, value: w.clientConfig }));
    expect((await client.kubectl(['patch', 'validatingwebhookconfiguration', FULL, '--type=json', '-p', JSON.stringify(restore)])).code).toBe(0);
  });

  it('helm uninstall leaves nothing: no webhook configuration, no RBAC, and the Secret garbage-collected (and not re-created)', async () => {
    const uninstall = h(['uninstall', RELEASE, '-n', NS]);
    expect(uninstall.code, uninstall.stderr).toBe(0);
    expect(await releaseObjects()).toEqual({});
    expect((await client.kubectl(['get', 'validatingwebhookconfiguration', FULL, '--ignore-not-found', '-o', 'name'])).stdout.trim()).toBe('');
    await waitFor(
      'the certificate Secret to be garbage-collected',
      async () => ((await client.kubectl(['get', 'secret', `${FULL}-tls`, '-n', NS, '--ignore-not-found', '-o', 'name'])).stdout.trim() === '' ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    // the replicas, still running (pods terminate after the webhook is gone), do not bring it back
    const polls = replicas[0]!.log().split('\n').length;
    await waitFor('a few more reconcile passes', async () => (replicas[0]!.log().split('\n').length > polls + 2 ? true : undefined), { timeoutMs: 30_000 });
    expect((await client.kubectl(['get', 'secrets', '-n', NS, '-o', 'name'])).stdout).not.toContain(`${FULL}-tls`);
    // the PolicyReport CRDs stay (helm.sh/resource-policy: keep): deleting them would delete every report
    expect((await client.kubectl(['get', 'crd', 'policyreports.wgpolicyk8s.io', 'clusterpolicyreports.wgpolicyk8s.io', '-o', 'name'])).stdout.trim().split('\n')).toHaveLength(2);
  });
});
