// portcullis against a real kube-apiserver: enforcement, workloads, ephemeral containers, audit mode, dry-run,
// namespace exclusions and failure policy. The control plane comes from global-setup.ts.
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { findAuditEvents, portcullisAnnotations } from './audit-log.js';
import { clusterClient, waitForServiceAccount } from './cluster.js';
import { deployment, ephemeralContainerPatch, namespace, pod } from './manifests.js';
import { waitFor, type RunResult } from './proc.js';
import { startPortcullis, type Portcullis } from './portcullis.js';
import { webhookConfigurationFor, type FailurePolicy } from './webhook-config.js';

const cluster = clusterClient(inject('cluster'));
const kc = new KubeConfig();
kc.loadFromFile(cluster.kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);

const ENFORCED = 'e2e-enforce';
const AUDITED = 'e2e-audit';

const enforceConfig = (mode: 'enforce' | 'audit') => `apiVersion: portcullis.dev/v1alpha1
kind: PortcullisConfig
mode: ${mode}
policies:
  require-non-root-user: {action: deny}
  require-drop-all-capabilities: {action: deny}
  disallow-latest-tag: {action: deny}
  require-read-only-root-filesystem: {action: deny}
  require-signed-images: {action: off}
exclude:
  namespaces: [kube-system]
pinning: {enabled: false}   # only the validating webhook is registered here; pinning.e2e.test.ts covers both
`;

let workDir: string;
let portcullis: Portcullis;

const apply = (manifest: string, ...extra: string[]) => cluster.kubectl(['apply', '-f', '-', ...extra], { input: manifest });
const exists = async (kind: string, name: string, ns: string) =>
  (await cluster.kubectl(['get', kind, name, '-n', ns, '-o', 'name'])).code === 0;
const describeRun = (r: RunResult) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

// Points the ValidatingWebhookConfiguration at `target`, then waits until the API server uses it: a dry-run root
// pod in the enforced namespace gets `rootProbe` (the configuration is picked up asynchronously).
async function configureWebhook(
  target: Portcullis,
  failurePolicy: FailurePolicy,
  rootProbe: 'denied' | 'admitted',
): Promise<void> {
  const res = await apply(webhookConfigurationFor({ url: target.url, caPem: target.caPem, failurePolicy }));
  expect(res.code, describeRun(res)).toBe(0);
  await waitFor(
    `webhook configuration for ${target.url} (${failurePolicy}) in effect`,
    async () => {
      const probe = await apply(pod('probe', ENFORCED, 'root'), '--dry-run=server');
      const denied = probe.code !== 0 && probe.stderr.includes('admission webhook "enforce.portcullis.dev" denied');
      const admitted = probe.code === 0;
      return (rootProbe === 'denied' ? denied : admitted) ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-server-'));
  for (const [name, labels] of [
    [ENFORCED, {}],
    [AUDITED, { 'portcullis.dev/mode': 'audit' }],
  ] as const) {
    const res = await apply(namespace(name, labels));
    expect(res.code, describeRun(res)).toBe(0);
    await waitForServiceAccount(cluster, name);
  }
  portcullis = await startPortcullis({ dir: join(workDir, 'enforce'), config: enforceConfig('enforce'), logLevel: 'debug' }); // debug: clean decisions are logged too
  await configureWebhook(portcullis, 'Fail', 'denied');
});

afterAll(async () => {
  await cluster.kubectl(['delete', 'validatingwebhookconfiguration', 'portcullis', '--ignore-not-found']);
  await portcullis?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('pods in an enforced namespace', () => {
  it('refuses a pod that runs as root and names the policy', async () => {
    const res = await apply(pod('root-pod', ENFORCED, 'root'));
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('admission webhook "enforce.portcullis.dev" denied the request');
    expect(res.stderr).toContain('[require-non-root-user]');
    expect(res.stderr).toContain('container "app" (containers[0])');
    expect(await exists('pod', 'root-pod', ENFORCED)).toBe(false);
  });

  it('admits a compliant pod', async () => {
    const res = await apply(pod('good-pod', ENFORCED, 'compliant'));
    expect(res.code, describeRun(res)).toBe(0);
    expect(res.stderr).not.toContain('Warning:');
    expect(await exists('pod', 'good-pod', ENFORCED)).toBe(true);
  });
});

describe('workloads', () => {
  it('refuses a Deployment whose pod template breaks a policy', async () => {
    const res = await apply(deployment('root-deploy', ENFORCED, 'root'));
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('[require-non-root-user]');
    expect(await exists('deployment', 'root-deploy', ENFORCED)).toBe(false);
  });

  it('admits a compliant Deployment and the ReplicaSet and Pods the controllers make from it', async () => {
    const res = await apply(deployment('good-deploy', ENFORCED, 'compliant', 2));
    expect(res.code, describeRun(res)).toBe(0);
    const rs = await waitFor('a ReplicaSet for good-deploy', async () => {
      const list = await apps.listNamespacedReplicaSet({ namespace: ENFORCED, labelSelector: 'app=good-deploy' });
      return list.items.find((r) => r.metadata?.ownerReferences?.some((o) => o.name === 'good-deploy'));
    });
    const pods = await waitFor('2 pods for good-deploy', async () => {
      const list = await core.listNamespacedPod({ namespace: ENFORCED, labelSelector: 'app=good-deploy' });
      return list.items.length === 2 ? list.items : undefined;
    });
    for (const p of pods) {
      expect(p.metadata?.ownerReferences?.[0]?.name).toBe(rs.metadata?.name);
      expect(p.spec?.containers[0]?.securityContext?.runAsUser).toBe(1000);
    }
    // The ReplicaSet controller's pod creations went through portcullis and were allowed.
    const decisions = portcullis
      .logLines()
      .filter(
        (l) =>
          l.msg === 'admission decision' &&
          l.kind === 'Pod' &&
          l.namespace === ENFORCED &&
          l.operation === 'CREATE' &&
          l.user === 'system:serviceaccount:kube-system:replicaset-controller',
      );
    expect(decisions.length).toBeGreaterThanOrEqual(2);
    expect(decisions.every((l) => l.allowed === true)).toBe(true);
  });
});

describe('ephemeral containers', () => {
  beforeAll(async () => {
    const res = await apply(pod('debug-target', ENFORCED, 'compliant'));
    expect(res.code, describeRun(res)).toBe(0);
  });

  const addEphemeral = (name: string, flavour: 'compliant' | 'root') =>
    cluster.kubectl([
      'patch', 'pod', 'debug-target', '-n', ENFORCED, '--subresource=ephemeralcontainers', '--type=strategic',
      '-p', ephemeralContainerPatch(name, flavour),
    ]);

  it('refuses a root debug container added through pods/ephemeralcontainers', async () => {
    const res = await addEphemeral('debug-root', 'root');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('[require-non-root-user]');
    expect(res.stderr).toContain('debug-root');
    const p = await core.readNamespacedPod({ name: 'debug-target', namespace: ENFORCED });
    expect(p.spec?.ephemeralContainers ?? []).toHaveLength(0);
  });

  it('accepts a compliant debug container', async () => {
    const res = await addEphemeral('debug-ok', 'compliant');
    expect(res.code, describeRun(res)).toBe(0);
    const p = await core.readNamespacedPod({ name: 'debug-target', namespace: ENFORCED });
    expect((p.spec?.ephemeralContainers ?? []).map((c) => c.name)).toEqual(['debug-ok']);
  });
});

describe('audit mode', () => {
  it('admits a root pod in a namespace labelled portcullis.dev/mode=audit, with warnings and audit annotations', async () => {
    const res = await apply(pod('audited-root', AUDITED, 'root'));
    expect(res.code, describeRun(res)).toBe(0);
    expect(res.stderr).toMatch(/^Warning: .*require-non-root-user/m);
    expect(await exists('pod', 'audited-root', AUDITED)).toBe(true);
    const annotations = await waitFor('portcullis audit annotations on the create event', async () => {
      const events = findAuditEvents(cluster.auditLogPath, {
        resource: 'pods', namespace: AUDITED, name: 'audited-root', verb: 'create',
      });
      const found = events.map(portcullisAnnotations).find((a) => Object.keys(a).length > 0);
      return found;
    }, { timeoutMs: 15_000 });
    expect(Object.keys(annotations).every((k) => k.startsWith('audit.portcullis.dev/'))).toBe(true);
    expect(Object.entries(annotations).flat().join('\n')).toContain('require-non-root-user');
  });

  it('admits a root pod with warnings when the server itself runs in audit mode', async () => {
    const auditing = await startPortcullis({ dir: join(workDir, 'audit'), config: enforceConfig('audit') });
    try {
      await configureWebhook(auditing, 'Fail', 'admitted');
      const res = await apply(pod('mode-audit-root', ENFORCED, 'root'));
      expect(res.code, describeRun(res)).toBe(0);
      expect(res.stderr).toMatch(/^Warning: .*require-non-root-user/m);
      expect(await exists('pod', 'mode-audit-root', ENFORCED)).toBe(true);
    } finally {
      await configureWebhook(portcullis, 'Fail', 'denied');
      await auditing.stop();
    }
  });
});

describe('server-side dry run', () => {
  it('gives a non-compliant pod the same verdict and writes nothing', async () => {
    const res = await apply(pod('dry-root', ENFORCED, 'root'), '--dry-run=server');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('admission webhook "enforce.portcullis.dev" denied the request');
    expect(res.stderr).toContain('[require-non-root-user]');
    expect(await exists('pod', 'dry-root', ENFORCED)).toBe(false);
  });

  it('admits a compliant pod and writes nothing', async () => {
    const res = await apply(pod('dry-good', ENFORCED, 'compliant'), '--dry-run=server');
    expect(res.code, describeRun(res)).toBe(0);
    expect(res.stdout).toContain('(server dry run)');
    expect(await exists('pod', 'dry-good', ENFORCED)).toBe(false);
  });

  it('warns about a root pod in an audited namespace and writes nothing', async () => {
    const res = await apply(pod('dry-audited', AUDITED, 'root'), '--dry-run=server');
    expect(res.code, describeRun(res)).toBe(0);
    expect(res.stderr).toMatch(/^Warning: .*require-non-root-user/m);
    expect(await exists('pod', 'dry-audited', AUDITED)).toBe(false);
  });
});

describe('exclusions and failure policy', () => {
  it('does not intercept kube-system', async () => {
    const res = await apply(pod('root-in-kube-system', 'kube-system', 'root'));
    expect(res.code, describeRun(res)).toBe(0);
    expect(res.stderr).not.toContain('Warning:');
  });

  it('with portcullis down, failurePolicy Fail refuses enforced pods while kube-system keeps working', async () => {
    await portcullis.stop();
    const res = await apply(pod('while-down', ENFORCED, 'compliant'));
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('failed calling webhook "enforce.portcullis.dev"');
    expect(await exists('pod', 'while-down', ENFORCED)).toBe(false);
    const system = await apply(pod('while-down-system', 'kube-system', 'root'));
    expect(system.code, describeRun(system)).toBe(0);
  });

  it('with portcullis down, failurePolicy Ignore lets pods through', async () => {
    await configureWebhook(portcullis, 'Ignore', 'admitted');
    const res = await apply(pod('while-down-ignored', ENFORCED, 'root'));
    expect(res.code, describeRun(res)).toBe(0);
    expect(await exists('pod', 'while-down-ignored', ENFORCED)).toBe(true);
  });
});
