// The fail-safe against a real kube-apiserver: with no webhook, only the ValidatingAdmissionPolicies that
// `portcullis vap` renders, every fixture of every built-in CEL policy (policies/*/fixtures.ts, on every
// pod-carrying kind) and every case of the custom-policy examples is sent through the API server as a server-side
// dry run, and its verdict compared with the engine's. Then, with the webhook registered too, a denied Pod gets
// one set of portcullis messages.
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { POLICIES, POLICY_IDS } from '../../policies/index.js';
import { configFromObject } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { createEngine } from '../../src/engine/evaluate.js';
import { renderFailSafe } from '../../src/failsafe/vap.js';
import { readTestFile, testFilePaths } from '../../src/policytest/files.js';
import { groupOf } from '../../src/workload/podspecs.js';
import { KINDS, objectOf } from '../helpers/pods.js';
import { POD_METADATA_CASES, withPodMetadata } from '../helpers/pod-metadata.js';
import type { PolicyFixtures } from '../helpers/fixtures.js';
import { clusterClient, waitForServiceAccount } from './cluster.js';
import { namespace } from './manifests.js';
import { run, waitFor } from './proc.js';
import { CLI_PATH, REPO_ROOT, startPortcullis, type Portcullis } from './portcullis.js';
import { webhookConfigurationFor } from './webhook-config.js';

const cluster = clusterClient(inject('cluster'));
const kc = new KubeConfig();
kc.loadFromFile(cluster.kubeconfig);
const objects = KubernetesObjectApi.makeApiClient(kc);

type Json = Record<string, any>;

/** One policy at one set of parameters, bound to its own namespace. */
interface Group {
  readonly name: string;
  readonly namespace: string;
  readonly config: Config;
  readonly samples: Array<{ label: string; object: Json }>;
}

const CUSTOM_DIR = join(REPO_ROOT, 'examples', 'custom-policies');
const allOff = () => Object.fromEntries(POLICY_IDS.map((id) => [id, { action: 'off' }]));
const baseConfig = { apiVersion: 'portcullis.dev/v1alpha1', kind: 'PortcullisConfig', registry: { enabled: false }, exclude: { namespaces: [] } };

/** securityContext fields the API server refuses on a windows pod, its own and its containers'. */
const LINUX_ONLY_POD = ['seLinuxOptions', 'seccompProfile', 'appArmorProfile', 'runAsUser', 'runAsGroup', 'fsGroup', 'fsGroupChangePolicy', 'supplementalGroups', 'sysctls'];
const LINUX_ONLY_CONTAINER = ['seLinuxOptions', 'seccompProfile', 'appArmorProfile', 'capabilities', 'readOnlyRootFilesystem', 'privileged', 'allowPrivilegeEscalation', 'procMount', 'runAsUser', 'runAsGroup'];

// The fixture object made acceptable to the API server's own validation: controllers get a selector matching
// their template's labels, Jobs a restartPolicy they allow, privileged containers no allowPrivilegeEscalation: false,
// windows pods none of the Linux-only fields, init containers with lifecycle hooks restartPolicy: Always. The engine
// judges the same object.
function valid(object: Json): Json {
  const o = structuredClone(object);
  const template = o.kind === 'CronJob' ? o.spec?.jobTemplate?.spec?.template : o.kind === 'PodTemplate' ? o.template : o.kind === 'Pod' ? undefined : o.spec?.template;
  if (template && o.kind !== 'Job' && o.kind !== 'CronJob' && o.kind !== 'PodTemplate') {
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), app: 'failsafe' } };
    o.spec.selector = o.kind === 'ReplicationController' ? { app: 'failsafe' } : { matchLabels: { app: 'failsafe' } };
  }
  const spec = o.kind === 'Pod' ? o.spec : template?.spec;
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
    // the API server refuses privileged: true with allowPrivilegeEscalation: false
    if (c.securityContext?.privileged === true && c.securityContext.allowPrivilegeEscalation === false) delete c.securityContext.allowPrivilegeEscalation;
    if (spec.os?.name === 'windows') for (const f of LINUX_ONLY_CONTAINER) delete c.securityContext?.[f];
  }
  if (spec?.os?.name === 'windows') for (const f of LINUX_ONLY_POD) delete spec.securityContext?.[f];
  for (const c of spec?.initContainers ?? []) if (c.lifecycle) c.restartPolicy = 'Always';
  if ((o.kind === 'Job' || o.kind === 'CronJob') && template?.spec && (template.spec.restartPolicy ?? 'Always') === 'Always') template.spec.restartPolicy = 'Never';
  return o;
}

// The built-in groups: each CEL policy at each distinct parameter set of its fixtures, and the pod metadata cases.
async function builtinGroups(): Promise<Group[]> {
  const groups = new Map<string, Group>();
  const groupFor = (id: string, params: Record<string, unknown> = {}): Group => {
    const key = `${id} ${JSON.stringify(params)}`;
    let g = groups.get(key);
    if (!g) {
      const n = groups.size;
      const config = configFromObject({ ...baseConfig, policies: { ...allOff(), [id]: { action: 'deny', ...params } } });
      g = { name: `${id}-${n}`, namespace: `fs-${n}`, config, samples: [] };
      groups.set(key, g);
    }
    return g;
  };
  for (const policy of POLICIES.filter((p) => p.cel)) {
    const { fixtures } = (await import(`../../policies/${policy.id}/fixtures.ts`)) as { fixtures: PolicyFixtures };
    for (const f of [...fixtures.pass, ...fixtures.fail]) {
      const g = groupFor(policy.id, f.params);
      for (const kind of KINDS) {
        if ((f.podOnly && kind.kind !== 'Pod') || f.skipKinds?.includes(kind.kind)) continue;
        g.samples.push({ label: `${policy.id}: ${f.name} (${kind.kind})`, object: valid(objectOf(kind, f.spec, `s${g.samples.length}`, g.namespace)) });
      }
    }
  }
  for (const c of POD_METADATA_CASES) {
    const g = groupFor(c.policy);
    for (const kind of KINDS) g.samples.push({ label: `${c.policy}: ${c.name} (${kind.kind})`, object: valid(withPodMetadata(kind, c.metadata, `s${g.samples.length}`, g.namespace)) });
  }
  return [...groups.values()];
}

// The custom-policy examples: their config with the built-ins off, and the resources of their test cases.
function customGroup(): Group {
  const doc = parse(readFileSync(join(CUSTOM_DIR, 'config.yaml'), 'utf8')) as Json;
  const config = configFromObject({ ...doc, exclude: { namespaces: [] }, policies: allOff() }, 'examples', POLICIES, CUSTOM_DIR);
  const cases = testFilePaths([join(CUSTOM_DIR, 'tests')]).flatMap(readTestFile).flatMap((f) => f.cases);
  const samples = cases
    .filter((c) => c.namespace !== 'kube-system' && Object.keys(c.policies).length === 0)
    .map((c, i) => ({ label: `custom: ${c.name}`, object: { ...c.resource, metadata: { ...(c.resource.metadata as Json), name: `c${i}`, namespace: 'fs-custom' } } }));
  return { name: 'custom', namespace: 'fs-custom', config, samples };
}

// The group's fail-safe objects, renamed for the group and bound to its namespace only.
function groupManifests(g: Group): Json[] {
  const { documents } = renderFailSafe(g.config);
  return documents.map((d) => {
    const doc = structuredClone(d) as Json;
    doc.metadata.name = `${doc.metadata.name}-${g.name}`;
    if (doc.kind === 'ValidatingAdmissionPolicyBinding') {
      doc.spec.policyName = `${doc.spec.policyName}-${g.name}`;
      doc.spec.matchResources = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': g.namespace } } };
    }
    return doc;
  });
}

type ApiVerdict = { allowed: true } | { allowed: false; byPolicy: boolean; message: string };

// Sends an object as a server-side dry run; a refusal by a ValidatingAdmissionPolicy is a denial.
async function apiVerdict(object: Json): Promise<ApiVerdict> {
  try {
    await objects.create(object, undefined, 'All');
    return { allowed: true };
  } catch (err) {
    const body = (err as { body?: unknown }).body;
    const message = typeof body === 'string' ? ((JSON.parse(body) as { message?: string }).message ?? body) : String((err as Error).message);
    return { allowed: false, byPolicy: message.includes('ValidatingAdmissionPolicy'), message };
  }
}

async function engineAllows(config: Config, object: Json): Promise<boolean> {
  const engine = createEngine({ config: () => config });
  const decision = await engine.evaluate({ group: groupOf(object.apiVersion as string), kind: object.kind as string, operation: 'CREATE', namespace: object.metadata.namespace as string, object }, { deadline: Date.now() + 10_000 });
  return decision.allowed;
}

let groups: Group[] = [];
let workDir: string;
let portcullis: Portcullis | undefined;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-failsafe-'));
  groups = [...(await builtinGroups()), customGroup()];
  for (const g of groups) {
    const res = await cluster.kubectl(['apply', '-f', '-'], { input: namespace(g.namespace) });
    expect(res.code, res.stderr).toBe(0);
  }
  await waitForServiceAccount(cluster, groups[0]!.namespace);
  const manifests = groups.flatMap(groupManifests);
  const res = await cluster.kubectl(['apply', '-f', '-'], { input: manifests.map((m) => `---\n${stringify(m)}`).join('') });
  expect(res.code, res.stderr).toBe(0);
  // The API server loads policies asynchronously: wait until each group refuses one of its failing samples.
  for (const g of groups) {
    const failing: Group["samples"] = [];
    for (const s of g.samples) if (!(await engineAllows(g.config, s.object))) failing.push(s);
    if (failing.length === 0) continue;
    await waitFor(`fail-safe policy for ${g.name} in effect`, async () => ((await apiVerdict(failing[0]!.object)).allowed ? undefined : true), { timeoutMs: 60_000, intervalMs: 500 });
  }
}, 300_000);

afterAll(async () => {
  await cluster.kubectl(['delete', 'validatingwebhookconfiguration', 'portcullis', '--ignore-not-found']);
  await cluster.kubectl(['delete', 'validatingadmissionpolicy,validatingadmissionpolicybinding', '-l', 'app.kubernetes.io/managed-by=portcullis', '--ignore-not-found']);
  await portcullis?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('fail-safe ValidatingAdmissionPolicies', () => {
  it('agree with the engine on every spec-only fixture of every built-in CEL policy and every custom example', async () => {
    let agreed = 0;
    const disagreements: string[] = [];
    const invalid: string[] = [];
    for (const g of groups) {
      for (const s of g.samples) {
        const [engine, api] = [await engineAllows(g.config, s.object), await apiVerdict(s.object)];
        if (!api.allowed && !api.byPolicy) {
          invalid.push(`${s.label}: ${api.message}`);
          continue;
        }
        if (engine === api.allowed) agreed++;
        else disagreements.push(`${s.label}: engine ${engine ? 'allows' : 'denies'}, API server ${api.allowed ? 'allows' : `denies: ${api.message}`}`);
        if (!api.allowed) expect(api.message, s.label).toMatch(/\[[a-z0-9-]+\] (pod|container "[^"]*" \((containers|initContainers|ephemeralContainers)\[\d+\]\)): .+ — /);
      }
    }
    const total = groups.reduce((n, g) => n + g.samples.length, 0);
    console.log(`[failsafe] CEL-versus-engine agreement: ${agreed} of ${agreed + disagreements.length} (${groups.length} policy/parameter groups; ${invalid.length} of ${total} refused by the API server's own validation)`);
    for (const line of invalid) console.log(`[failsafe] refused by API validation: ${line}`);
    expect(disagreements).toEqual([]);
    expect(agreed).toBeGreaterThan(100);
  });

  it('portcullis vap renders the custom examples from the config file, listing what needs the webhook', async () => {
    const res = await run(process.execPath, [CLI_PATH, 'vap', '--config', join(CUSTOM_DIR, 'config.yaml')]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('not rendered: require-team-label: reads image facts');
    const check = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: res.stdout });
    expect(check.code, check.stderr).toBe(0);
  });

  it('with the webhook registered too, a denied Pod gets one set of portcullis messages', async () => {
    const g = groups.find((x) => x.name.startsWith('disallow-privileged'))!;
    const text = `apiVersion: portcullis.dev/v1alpha1\nkind: PortcullisConfig\nregistry: {enabled: false}\npinning: {enabled: false}\npolicies:\n${POLICY_IDS.map((id) => `  ${id}: {action: ${id === 'disallow-privileged' ? 'deny' : 'off'}}`).join('\n')}\n`;
    portcullis = await startPortcullis({ dir: join(workDir, 'webhook'), config: text });
    const reg = await cluster.kubectl(['apply', '-f', '-'], { input: webhookConfigurationFor({ url: portcullis.url, caPem: portcullis.caPem, failurePolicy: 'Fail' }) });
    expect(reg.code, reg.stderr).toBe(0);
    const privileged = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'both', namespace: g.namespace }, spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10', securityContext: { privileged: true } }] } };
    const verdict = await apiVerdict(privileged);
    expect(verdict.allowed).toBe(false);
    const message = (verdict as { message: string }).message;
    const lines = message.match(/\[disallow-privileged\][^\n;]*/g) ?? [];
    expect(lines).toEqual(['[disallow-privileged] container "app" (containers[0]): runs privileged (securityContext.privileged: true) — remove securityContext.privileged and add only the capabilities it needs']);
  });

  it('serve --fail-safe keeps the cluster\'s policies in step with the config file', async () => {
    const configText = (on: string) => `apiVersion: portcullis.dev/v1alpha1\nkind: PortcullisConfig\nregistry: {enabled: false}\npolicies:\n${POLICY_IDS.map((id) => `  ${id}: {action: ${id === on ? 'deny' : 'off'}}`).join('\n')}\n`;
    const dir = join(workDir, 'sync');
    const server = await startPortcullis({ dir, config: configText('disallow-host-path'), args: ['--fail-safe', '--kubeconfig', cluster.kubeconfig] });
    const names = async () => (await cluster.kubectl(['get', 'validatingadmissionpolicies', '-l', 'app.kubernetes.io/managed-by=portcullis', '-o', 'name'])).stdout.split('\n').filter((n) => n && !/-(disallow|require|custom)[a-z-]*-\d+$|-custom$/.test(n));
    try {
      await waitFor('the fail-safe applied', async () => ((await names()).includes('validatingadmissionpolicy.admissionregistration.k8s.io/portcullis-disallow-host-path') ? true : undefined), { timeoutMs: 30_000 });
      writeFileSync(join(dir, 'portcullis.yaml'), configText('disallow-host-namespaces'));
      await waitFor('the fail-safe in step with the changed config', async () => {
        const now = await names();
        return now.includes('validatingadmissionpolicy.admissionregistration.k8s.io/portcullis-disallow-host-namespaces') && !now.includes('validatingadmissionpolicy.admissionregistration.k8s.io/portcullis-disallow-host-path') ? true : undefined;
      }, { timeoutMs: 30_000 });
    } finally {
      await server.stop();
    }
  });
});
