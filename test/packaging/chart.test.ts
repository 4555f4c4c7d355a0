// The Helm chart: lint, render in every certificate mode and in audit mode, and check what it renders.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { AdmissionRequest } from '../../src/admission/review.js';
import { startBackgroundAudit } from '../../src/audit/background.js';
import type { BackgroundAuditOptions } from '../../src/audit/background.js';
import { parseConfig } from '../../src/config/load.js';
import { createEngine } from '../../src/engine/evaluate.js';
import { createOwnerEventRecorder } from '../../src/events/owner-events.js';
import { KubeApiError } from '../../src/kube/client.js';
import { REPO_ROOT } from './dockerfile.js';
import { CHART, CLI, find, haveHelm, helm, HELM, KUBE_VERSION, one, template, templateText, valueFlags } from './helm.js';
import type { K8sObject, Values } from './helm.js';
import { providedCerts } from './pki.js';
import { INSTALL, requireTool } from '../helpers/require-tool.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-chart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const certs = providedCerts();
const providedFile = join(dir, 'provided.yaml');
writeFileSync(providedFile, stringify({ certificates: { mode: 'provided', provided: { cert: certs.cert, key: certs.key, caBundle: certs.ca } } }));

/** The variants every check runs on: name, --set-string values, extra helm flags. */
const VARIANTS: Array<[string, Values, string[]]> = [
  ['self (default)', {}, []],
  ['certManager', { 'certificates.mode': 'certManager' }, []],
  ['certManager with an issuer', { 'certificates.mode': 'certManager', 'certificates.certManager.issuerRef.name': 'corp-ca', 'certificates.certManager.issuerRef.kind': 'ClusterIssuer' }, []],
  ['provided (inline)', {}, ['-f', providedFile]],
  ['provided (existing Secret)', { 'certificates.mode': 'provided', 'certificates.provided.secretName': 'my-tls', 'certificates.provided.caBundle': 'PEM' }, []],
  ['audit mode', { 'config.mode': 'audit' }, []],
  ['Pod Security restricted preset', { 'config.podSecurity.level': 'restricted' }, []],
  [
    'everything on',
    {
      'networkPolicy.enabled': 'true',
      'networkPolicy.restrictEgress': 'true',
      'networkPolicy.apiServerCIDRs[0]': '10.0.0.0/8',
      'serviceMonitor.enabled': 'true',
      'priorityClassName': 'system-cluster-critical',
      'audit.intervalMinutes': '60',
    },
    ['--set', 'config.registry.usePullSecrets=true'],
  ],
  ['background audit and owner events', { 'audit.intervalMinutes': '60', 'audit.policyReports': 'true', 'ownerEvents.enabled': 'true' }, []],
  ['no API features, no CRDs', { 'certificates.mode': 'certManager', 'ownerEvents.enabled': 'false', 'policyReports.installCRDs': 'false' }, []],
];

/** The values that turn on the background audit (with PolicyReports) and owner events. */
const FEATURES: Values = { 'audit.intervalMinutes': '60', 'audit.policyReports': 'true', 'ownerEvents.enabled': 'true' };
/** ... and that turn every API feature off (the helm test hooks too: they bring their own Role). */
const NO_FEATURES: Values = { 'audit.intervalMinutes': '0', 'ownerEvents.enabled': 'false', 'exceptions.enabled': 'false', 'exceptions.rbac': 'false', 'tests.enabled': 'false' };

/** What `helm install` creates: the rendering without the helm test hooks. */
const installed = (objs: K8sObject[]) => objs.filter((o) => o.metadata.annotations?.['helm.sh/hook'] !== 'test');

interface Rule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}
type RoleObject = K8sObject & { rules: Rule[] };
type Binding = K8sObject & { roleRef: { kind: string; name: string }; subjects: Array<{ kind: string; name: string; namespace: string }> };

// The rules granted to a ServiceAccount by the rendered (Cluster)Roles and bindings, with the namespace each holds in.
function grantedRules(objs: K8sObject[], sa: string, saNamespace: string): Array<Rule & { namespace?: string }> {
  const out: Array<Rule & { namespace?: string }> = [];
  for (const b of [...find(objs, 'ClusterRoleBinding'), ...find(objs, 'RoleBinding')] as Binding[]) {
    if (!b.subjects.some((s) => s.kind === 'ServiceAccount' && s.name === sa && s.namespace === saNamespace)) continue;
    // a RoleBinding refers to the Role of that name in its own namespace
    const role = (b.roleRef.kind === 'Role' ? find(objs, 'Role', b.roleRef.name).find((r) => r.metadata.namespace === b.metadata.namespace) : one(objs, b.roleRef.kind, b.roleRef.name)) as RoleObject;
    for (const r of role.rules) out.push(b.kind === 'RoleBinding' ? { ...r, namespace: b.metadata.namespace! } : r);
  }
  return out;
}

interface ApiCall {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
}

// Whether the rules allow a call, the way the RBAC authorizer decides (resourceNames never match create or list).
function allowed(rules: ReturnType<typeof grantedRules>, c: ApiCall): boolean {
  return rules.some(
    (r) =>
      r.apiGroups.includes(c.group) &&
      r.resources.includes(c.resource) &&
      r.verbs.includes(c.verb) &&
      (r.namespace === undefined || r.namespace === c.namespace) &&
      (r.resourceNames === undefined || (c.name !== undefined && r.resourceNames.includes(c.name))),
  );
}

type Obj = { metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; labels?: Record<string, string>; ownerReferences?: unknown[] }; [k: string]: unknown };

// An in-memory API that records every call as an RBAC request (verb, group, resource, namespace, name).
function recordingApi(seed: Record<string, Obj[]>): { client: BackgroundAuditOptions['client']; calls: ApiCall[] } {
  const store = new Map(Object.entries(seed));
  const calls: ApiCall[] = [];
  const counts: Record<string, number> = {};
  let rv = 1;
  const fail = (status: number, method: string, path: string) => new KubeApiError(method, path, status, status === 404 ? 'NotFound' : 'AlreadyExists', 'fake');
  const client = {
    calls: counts,
    namespace: 'default',
    close: () => undefined,
    async request<T>(req: { method?: string; path: string; query?: Record<string, unknown>; body?: unknown }): Promise<T> {
      const method = req.method ?? 'GET';
      counts[method] = (counts[method] ?? 0) + 1;
      // discovery (allowed to every authenticated user): this cluster serves the wg-policy reports only
      if (req.path === '/apis') return { groups: [{ name: 'wgpolicyk8s.io', versions: [{ version: 'v1alpha2' }] }] } as T;
      const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/.exec(req.path);
      if (!m) throw new Error(`unexpected path ${req.path}`);
      const [, group = '', ns, resource = '', rawName] = m;
      const namespace = ns ? decodeURIComponent(ns) : undefined;
      const name = rawName ? decodeURIComponent(rawName) : undefined;
      const verb = method === 'GET' ? (name ? 'get' : 'list') : ({ POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[method]!;
      calls.push({ verb, group, resource, ...(namespace ? { namespace } : {}), ...(name ? { name } : {}) });
      const key = `${group}/${resource}`;
      const items = store.get(key) ?? [];
      const inNs = items.filter((o) => !namespace || o.metadata.namespace === namespace);
      if (verb === 'list') {
        const selector = typeof req.query?.labelSelector === 'string' ? req.query.labelSelector.split(',').map((kv) => kv.split('=')) : [];
        return { items: structuredClone(inNs.filter((o) => selector.every(([k, v]) => o.metadata.labels?.[k!] === v))), metadata: {} } as T;
      }
      const found = inNs.find((o) => o.metadata.name === name);
      if (verb === 'create') {
        const body = structuredClone(req.body) as Obj;
        if (inNs.some((o) => o.metadata.name === body.metadata.name)) throw fail(409, method, req.path);
        body.metadata = { ...body.metadata, ...(namespace ? { namespace } : {}), uid: `uid-${rv}`, resourceVersion: String(++rv) };
        store.set(key, [...items, body]);
        return structuredClone(body) as T;
      }
      if (!found) throw fail(404, method, req.path);
      if (verb === 'get') return structuredClone(found) as T;
      if (verb === 'update') {
        const body = structuredClone(req.body) as Obj;
        body.metadata = { ...body.metadata, resourceVersion: String(++rv) };
        store.set(key, items.map((o) => (o === found ? body : o)));
        return structuredClone(body) as T;
      }
      store.set(key, items.filter((o) => o !== found));
      return {} as T;
    },
  };
  return { client: client as unknown as BackgroundAuditOptions['client'], calls };
}

const deployment = (objs: K8sObject[]) => one(objs, 'Deployment') as K8sObject & { spec: { replicas: number; template: { spec: PodSpec } } };
interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  securityContext: Record<string, unknown>;
  [k: string]: unknown;
}
interface PodSpec {
  containers: Container[];
  securityContext: Record<string, unknown>;
  [k: string]: unknown;
}

describe.runIf(requireTool('helm', haveHelm, INSTALL.helm))('helm chart charts/portcullis', () => {
  it.each(VARIANTS)('passes helm lint --strict: %s', (_name, values, extra) => {
    const res = helm(['lint', '--strict', CHART, '--namespace', 'portcullis', '--kube-version', KUBE_VERSION, ...valueFlags(values), ...extra]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
  });

  it.each(VARIANTS)('renders a Deployment that passes portcullis policies and the self-checks: %s', (_name, values, extra) => {
    const objs = template(values, 'portcullis', 'portcullis', extra);
    const d = deployment(objs);
    const pod = d.spec.template.spec;
    const c = pod.containers[0]!;
    expect(d.spec.replicas).toBe(3);
    expect(pod.topologySpreadConstraints).toHaveLength(2);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.image).toBe('ghcr.io/portcullis-dev/portcullis:0.1.0');
    expect(c.args?.[0]).toBe('serve');
    expect(c.args).toContain('--shutdown-delay=5');
    // the grace portcullis takes ends 2 s before the kubelet's SIGKILL (30 - 5 - 2)
    expect(c.args).toContain('--shutdown-grace=23');
    expect(c.args).toEqual(expect.arrayContaining(['--header-timeout=10', '--request-timeout=30', '--idle-timeout=120', '--max-connections=512']));
    expect(c.args).toContain('--config=/etc/portcullis/config/config.yaml');
    expect(c.env).toContainEqual({ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } });
    expect(c.env).toContainEqual({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    for (const [probe, path] of [['livenessProbe', '/healthz'], ['readinessProbe', '/readyz'], ['startupProbe', '/healthz']] as const) {
      expect(c[probe]).toMatchObject({ httpGet: { path, port: 'https', scheme: 'HTTPS' } });
    }
    expect(c.resources).toMatchObject({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } });
    expect(one(objs, 'PodDisruptionBudget').spec).toMatchObject({ maxUnavailable: 1 });
    expect(one(objs, 'Service').spec).toMatchObject({ ports: [{ port: 443, targetPort: 'https' }] });
    // the ConfigMap holds a valid PortcullisConfig
    const cm = one(objs, 'ConfigMap') as K8sObject & { data: Record<string, string> };
    const config = parseConfig(cm.data['config.yaml']!);
    expect(config.mode).toBe(values['config.mode'] ?? 'enforce');
    expect(config.policies['require-signed-images']?.action).toBe('off');
    const level = values['config.podSecurity.level'];
    expect(config.podSecurity?.level).toBe(level);
    expect(config.policies['restrict-seccomp']?.action).toBe(level ? 'deny' : 'warn');
  });

  it('renders the same two webhooks as deploy/webhook.yaml (release portcullis in namespace portcullis)', () => {
    const shipped = parse(readFileSync(join(REPO_ROOT, 'deploy', 'webhook.yaml'), 'utf8')) as { webhooks: unknown[] };
    const rendered = one(template(), 'ValidatingWebhookConfiguration') as K8sObject & { webhooks: unknown[] };
    expect(rendered.metadata.name).toBe('portcullis');
    expect(rendered.webhooks).toEqual(shipped.webhooks);
  });

  it('renders the same pinning webhooks as deploy/mutating-webhook.yaml, and none with pinning.webhook.enabled=false', () => {
    const shipped = parse(readFileSync(join(REPO_ROOT, 'deploy', 'mutating-webhook.yaml'), 'utf8')) as { webhooks: unknown[] };
    const rendered = one(template(), 'MutatingWebhookConfiguration') as K8sObject & { webhooks: Array<Record<string, any>> };
    expect(rendered.metadata.name).toBe('portcullis');
    expect(rendered.webhooks).toEqual(shipped.webhooks);
    for (const w of rendered.webhooks) {
      // Pods only, never templates: what GitOps applied is never changed
      expect((w.rules as Array<{ operations: string[]; resources: string[] }>).map((r) => [r.operations, r.resources])).toEqual([[['CREATE', 'UPDATE'], ['pods']], [['UPDATE'], ['pods/ephemeralcontainers']]]);
      expect(w).toMatchObject({ sideEffects: 'None', reinvocationPolicy: 'IfNeeded', failurePolicy: 'Ignore' });
    }
    expect(find(template({ 'pinning.webhook.enabled': 'false' }), 'MutatingWebhookConfiguration')).toHaveLength(0);
    const failing = one(template({ 'pinning.webhook.failurePolicy': 'Fail', 'pinning.webhook.timeoutSeconds': '3', 'webhook.audit.enabled': 'false' }), 'MutatingWebhookConfiguration') as K8sObject & { webhooks: Array<Record<string, any>> };
    expect(failing.webhooks.map((w) => [w.name, w.failurePolicy, w.timeoutSeconds])).toEqual([['pin.portcullis.dev', 'Fail', 3]]);
  });

  it('always excludes kube-system and the release namespace, honours portcullis.dev/mode=exempt, and takes failurePolicy/timeout', () => {
    const objs = template({ 'webhook.failurePolicy': 'Ignore', 'webhook.timeoutSeconds': '5', 'webhook.excludeNamespaces[0]': 'legacy' }, 'pc', 'security');
    const vwc = one(objs, 'ValidatingWebhookConfiguration') as K8sObject & { webhooks: Array<Record<string, any>> };
    expect(vwc.metadata.name).toBe('pc-portcullis');
    expect(vwc.webhooks.map((w) => [w.name, w.clientConfig.service.path])).toEqual([
      ['enforce.portcullis.dev', '/validate'],
      ['audit.portcullis.dev', '/validate/audit'],
    ]);
    for (const w of vwc.webhooks) {
      expect(w.failurePolicy).toBe('Ignore');
      expect(w.timeoutSeconds).toBe(5);
      expect(w.sideEffects).toBe('NoneOnDryRun');
      expect(w.admissionReviewVersions).toEqual(['v1']);
      expect(w.clientConfig.service).toEqual({ namespace: 'security', name: 'pc-portcullis', port: 443, path: w.clientConfig.service.path });
      const exprs = w.namespaceSelector.matchExpressions as Array<{ key: string; operator: string; values: string[] }>;
      expect(exprs[0]).toEqual({ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'security', 'legacy'] });
      const mode = exprs.find((e) => e.key === 'portcullis.dev/mode')!;
      expect(mode.operator === 'NotIn' ? mode.values : ['(audit only)']).toEqual(w.name.startsWith('enforce') ? ['audit', 'exempt'] : ['(audit only)']);
      const resources = (w.rules as Array<{ resources: string[] }>).flatMap((r) => r.resources).sort();
      expect(resources).toEqual(
        ['cronjobs', 'daemonsets', 'deployments', 'jobs', 'pods', 'pods/ephemeralcontainers', 'podtemplates', 'replicasets', 'replicationcontrollers', 'statefulsets'].sort(),
      );
    }
    expect(find(template({ 'webhook.audit.enabled': 'false' }), 'ValidatingWebhookConfiguration')[0]!.webhooks).toHaveLength(1);
  });

  it('self mode: least-privilege RBAC on the one Secret and the one webhook configuration, flags to match', () => {
    const objs = template(NO_FEATURES, 'pc', 'security');
    const role = one(objs, 'Role') as K8sObject & { rules: unknown[] };
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['pc-portcullis-tls'], verbs: ['get', 'update'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
    ]);
    const clusterRoles = find(objs, 'ClusterRole') as Array<K8sObject & { rules: unknown[] }>;
    expect(clusterRoles).toHaveLength(1);
    expect(clusterRoles[0]!.rules).toEqual([
      { apiGroups: ['admissionregistration.k8s.io'], resources: ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations'], resourceNames: ['pc-portcullis'], verbs: ['get', 'patch'] },
    ]);
    const pod = deployment(objs).spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.containers[0]!.args).toEqual(
      expect.arrayContaining(['--cert-mode=self', '--cert-secret=pc-portcullis-tls', '--webhook-config=pc-portcullis', '--mutating-webhook-config=pc-portcullis', '--service-name=pc-portcullis']),
    );
    // nothing renders a caBundle: the pods patch it in (helm keeps it across upgrades)
    for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
      const config = one(objs, kind) as K8sObject & { webhooks: Array<{ clientConfig: Record<string, unknown> }> };
      for (const w of config.webhooks) expect(w.clientConfig).not.toHaveProperty('caBundle');
    }
  });

  it('grants Secret reads only when pull-secret look-ups are on', () => {
    for (const mode of ['certManager', 'provided']) {
      const objs = template({ ...NO_FEATURES, 'certificates.mode': mode, 'certificates.provided.secretName': 'x', 'certificates.provided.caBundle': 'PEM' });
      expect(find(objs, 'Role')).toHaveLength(0);
      expect(find(objs, 'ClusterRole')).toHaveLength(0);
      expect(deployment(objs).spec.template.spec.automountServiceAccountToken).toBe(false);
    }
    const objs = template({ ...NO_FEATURES, 'certificates.mode': 'certManager' }, 'portcullis', 'portcullis', ['--set', 'config.registry.usePullSecrets=true']);
    const cr = one(objs, 'ClusterRole', 'portcullis-pull-secrets') as K8sObject & { rules: unknown[] };
    expect(cr.rules).toEqual([{ apiGroups: [''], resources: ['secrets', 'serviceaccounts'], verbs: ['get'] }]);
    expect(deployment(objs).spec.template.spec.automountServiceAccountToken).toBe(true);
  });

  it('background audit and owner events: the serve flags, POD_NAME, and RBAC only while they are on', () => {
    const objs = template(FEATURES, 'pc', 'security');
    const c = deployment(objs).spec.template.spec.containers[0]!;
    expect(c.args).toEqual(expect.arrayContaining(['--audit-interval=60', '--audit-lease-name=pc-portcullis-audit', '--audit-reports', '--owner-events']));
    expect(c.env).toContainEqual({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    expect((one(objs, 'ClusterRole', 'pc-portcullis-audit') as RoleObject).rules).toEqual([
      { apiGroups: [''], resources: ['pods', 'replicationcontrollers'], verbs: ['list'] },
      { apiGroups: ['apps'], resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'], verbs: ['list'] },
      { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: ['list'] },
      { apiGroups: ['openreports.io'], resources: ['reports', 'clusterreports'], verbs: ['get', 'list', 'create', 'update', 'delete'] },
      { apiGroups: ['wgpolicyk8s.io'], resources: ['policyreports', 'clusterpolicyreports'], verbs: ['get', 'list', 'create', 'update', 'delete'] },
    ]);
    expect(c.args).toContain('--report-api=auto');
    const openreportsOnly = template({ ...FEATURES, 'audit.reportApi': 'openreports' }, 'pc', 'security');
    expect((one(openreportsOnly, 'ClusterRole', 'pc-portcullis-audit') as RoleObject).rules.flatMap((r) => r.apiGroups)).not.toContain('wgpolicyk8s.io');
    expect(deployment(openreportsOnly).spec.template.spec.containers[0]!.args).toContain('--report-api=openreports');
    const lease = one(objs, 'Role', 'pc-portcullis-audit-lease') as RoleObject;
    expect(lease.metadata.namespace).toBe('security');
    expect(lease.rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['pc-portcullis-audit'], verbs: ['get', 'update'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    ]);
    expect((one(objs, 'ClusterRole', 'pc-portcullis-owner-events') as RoleObject).rules).toEqual([
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
      { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get'] },
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'] },
    ]);
    for (const name of ['pc-portcullis-audit', 'pc-portcullis-owner-events']) {
      expect((one(objs, 'ClusterRoleBinding', name) as Binding).subjects).toEqual([{ kind: 'ServiceAccount', name: 'pc-portcullis', namespace: 'security' }]);
    }
    expect((one(objs, 'RoleBinding', 'pc-portcullis-audit-lease') as Binding).roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pc-portcullis-audit-lease' });

    // PolicyReports off: the scan's lists and the Lease only
    const noReports = template({ ...FEATURES, 'audit.policyReports': 'false' }, 'pc', 'security');
    expect(deployment(noReports).spec.template.spec.containers[0]!.args).not.toContain('--audit-reports');
    expect((one(noReports, 'ClusterRole', 'pc-portcullis-audit') as RoleObject).rules.flatMap((r) => r.apiGroups)).not.toContain('wgpolicyk8s.io');
    expect((one(noReports, 'ClusterRole', 'pc-portcullis-audit') as RoleObject).rules.flatMap((r) => r.apiGroups)).not.toContain('openreports.io');

    // defaults: no background audit (and none of its RBAC), owner events on; off: none of either
    const defaults = installed(template({}, 'pc', 'security'));
    const defaultArgs = deployment(defaults).spec.template.spec.containers[0]!.args!;
    expect(defaultArgs.filter((a) => a.startsWith('--audit'))).toEqual([]);
    expect(defaultArgs).toContain('--owner-events');
    expect(find(defaults, 'ClusterRole').map((o) => o.metadata.name).sort()).toEqual(['pc-portcullis-exception-approver', 'pc-portcullis-exception-viewer', 'pc-portcullis-owner-events', 'pc-portcullis-webhook-ca']);
    expect(find(defaults, 'Role').map((o) => o.metadata.name)).toEqual(['pc-portcullis-certs', 'pc-portcullis-exceptions']);
    const off = template({ ...NO_FEATURES, 'certificates.mode': 'certManager' }, 'pc', 'security');
    expect(deployment(off).spec.template.spec.containers[0]!.args!.filter((a) => a.startsWith('--audit') || a === '--owner-events')).toEqual([]);
    expect(find(off, 'ClusterRole')).toHaveLength(0);
    expect(find(off, 'Role')).toHaveLength(0);
    expect(deployment(off).spec.template.spec.automountServiceAccountToken).toBe(false);
    // either feature alone mounts the token (certManager mode has no other use for it)
    expect(deployment(template({ ...NO_FEATURES, 'certificates.mode': 'certManager', 'ownerEvents.enabled': 'true' })).spec.template.spec.automountServiceAccountToken).toBe(true);
    expect(deployment(template({ ...NO_FEATURES, 'certificates.mode': 'certManager', 'audit.intervalMinutes': '5' })).spec.template.spec.automountServiceAccountToken).toBe(true);
  });

  it('failSafe.enabled: the --fail-safe flag, the API token, and write access to ValidatingAdmissionPolicies only while on', () => {
    const on = template({ ...NO_FEATURES, 'certificates.mode': 'certManager', 'failSafe.enabled': 'true' }, 'pc', 'security');
    expect(deployment(on).spec.template.spec.containers[0]!.args).toContain('--fail-safe');
    expect(deployment(on).spec.template.spec.automountServiceAccountToken).toBe(true);
    expect((one(on, 'ClusterRole', 'pc-portcullis-failsafe') as RoleObject).rules).toEqual([
      { apiGroups: ['admissionregistration.k8s.io'], resources: ['validatingadmissionpolicies', 'validatingadmissionpolicybindings'], verbs: ['get', 'list', 'create', 'patch', 'delete'] },
    ]);
    expect((one(on, 'ClusterRoleBinding', 'pc-portcullis-failsafe') as Binding).subjects).toEqual([{ kind: 'ServiceAccount', name: 'pc-portcullis', namespace: 'security' }]);
    const off = template({ ...NO_FEATURES, 'certificates.mode': 'certManager' }, 'pc', 'security');
    expect(deployment(off).spec.template.spec.containers[0]!.args).not.toContain('--fail-safe');
    expect(find(off, 'ClusterRole').map((o) => o.metadata.name)).not.toContain('pc-portcullis-failsafe');
  });

  it('customPolicyConfigMaps: each mounted read-only under /etc/portcullis/custom-policies and added to customPolicies.directories', () => {
    const objs = template({ ...NO_FEATURES, 'certificates.mode': 'certManager', 'customPolicyConfigMaps[0]': 'team-a', 'customPolicyConfigMaps[1]': 'team-b', 'config.customPolicies.directories[0]': '/extra' }, 'pc', 'security');
    const pod = deployment(objs).spec.template.spec;
    expect(pod.volumes).toEqual(expect.arrayContaining([{ name: 'custom-policies-0', configMap: { name: 'team-a' } }, { name: 'custom-policies-1', configMap: { name: 'team-b' } }]));
    expect(pod.containers[0]!.volumeMounts).toEqual(expect.arrayContaining([{ name: 'custom-policies-1', mountPath: '/etc/portcullis/custom-policies/team-b', readOnly: true }]));
    const cm = one(objs, 'ConfigMap') as K8sObject & { data: Record<string, string> };
    expect(parse(cm.data['config.yaml']!).customPolicies).toEqual({ directories: ['/extra', '/etc/portcullis/custom-policies/team-a', '/etc/portcullis/custom-policies/team-b'] });
    const none = template({ ...NO_FEATURES, 'certificates.mode': 'certManager' }, 'pc', 'security');
    expect(parse((one(none, 'ConfigMap') as K8sObject & { data: Record<string, string> }).data['config.yaml']!).customPolicies).toBeUndefined();
    expect(helm(['template', 'x', CHART, '--kube-version', KUBE_VERSION, '--set', 'customPolicyConfigMaps[0]=Team_A']).code).not.toBe(0);
  });

  it('the values schema refuses a negative interval and unknown keys', () => {
    for (const set of ['audit.intervalMinutes=-1', 'audit.bogus=1', 'ownerEvents.enabled=maybe', 'policyReports.installCRDs=yes', 'audit.reportApi=v2', 'exceptions.maxDuration=soon', 'exceptions.namespaces={Team_A}']) {
      const res = helm(['template', 'x', CHART, '--kube-version', KUBE_VERSION, '--set', set]);
      expect(res.code, set).not.toBe(0);
    }
  });

  it('CRDs: files/crds are deploy/crds, rendered unless policyReports.installCRDs / exceptions.installCRD are false, kept on uninstall', () => {
    const shipped = readdirSync(join(REPO_ROOT, 'deploy', 'crds')).sort();
    expect(readdirSync(join(CHART, 'files', 'crds')).sort()).toEqual(shipped);
    for (const f of shipped) {
      expect(readFileSync(join(CHART, 'files', 'crds', f), 'utf8'), f).toBe(readFileSync(join(REPO_ROOT, 'deploy', 'crds', f), 'utf8'));
    }
    const crds = find(template(), 'CustomResourceDefinition') as Array<K8sObject & { spec: { group: string; names: { kind: string; plural: string }; scope: string; versions: Array<{ name: string }> } }>;
    expect(crds.map((c) => [c.metadata.name, c.spec.names.kind, c.spec.scope])).toEqual([
      ['policyexceptions.portcullis.dev', 'PolicyException', 'Namespaced'],
      ['reports.openreports.io', 'Report', 'Namespaced'],
      ['clusterreports.openreports.io', 'ClusterReport', 'Cluster'],
      ['policyreports.wgpolicyk8s.io', 'PolicyReport', 'Namespaced'],
      ['clusterpolicyreports.wgpolicyk8s.io', 'ClusterPolicyReport', 'Cluster'],
    ]);
    for (const c of crds) {
      expect(c.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
      expect(c.spec.versions.map((v) => v.name)).toEqual([{ 'portcullis.dev': 'v1alpha1', 'openreports.io': 'v1alpha1', 'wgpolicyk8s.io': 'v1alpha2' }[c.spec.group]]);
      expect(c).toEqual(parse(readFileSync(join(REPO_ROOT, 'deploy', 'crds', `${c.spec.group}_${c.spec.names.plural}.yaml`), 'utf8')));
    }
    expect(find(template({ 'policyReports.installCRDs': 'false', 'exceptions.installCRD': 'false', ...FEATURES }), 'CustomResourceDefinition')).toHaveLength(0);
    expect(find(template({ 'policyReports.installCRDs': 'false', ...FEATURES }), 'CustomResourceDefinition').map((c) => c.metadata.name)).toEqual(['policyexceptions.portcullis.dev']);
  });

  it('exceptions: the serve flags, read/watch and event RBAC in each exception namespace only, the approver and viewer ClusterRoles', () => {
    const objs = template({}, 'pc', 'security', ['--set', 'exceptions.namespaces={security,exceptions}', '--set', 'exceptions.maxDuration=30d']);
    const args = deployment(objs).spec.template.spec.containers[0]!.args!;
    expect(args).toEqual(expect.arrayContaining(['--exceptions', '--exception-namespace=security', '--exception-namespace=exceptions', '--exception-max-duration=30d']));
    const rules = grantedRules(objs, 'pc-portcullis', 'security');
    for (const namespace of ['security', 'exceptions']) {
      for (const verb of ['list', 'watch', 'get']) expect(allowed(rules, { verb, group: 'portcullis.dev', resource: 'policyexceptions', namespace }), `${verb} in ${namespace}`).toBe(true);
      expect(allowed(rules, { verb: 'create', group: 'events.k8s.io', resource: 'events', namespace })).toBe(true);
    }
    expect(allowed(rules, { verb: 'list', group: 'portcullis.dev', resource: 'policyexceptions', namespace: 'shop' })).toBe(false);
    expect(allowed(rules, { verb: 'create', group: 'portcullis.dev', resource: 'policyexceptions', namespace: 'security' })).toBe(false);
    const approver = one(objs, 'ClusterRole', 'pc-portcullis-exception-approver') as RoleObject;
    expect(approver.rules[0]).toMatchObject({ apiGroups: ['portcullis.dev'], resources: ['policyexceptions'], verbs: expect.arrayContaining(['create', 'update', 'delete']) });
    const viewer = one(objs, 'ClusterRole', 'pc-portcullis-exception-viewer') as RoleObject;
    expect(viewer.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-view']).toBe('true');
    expect(deployment(template({}, 'pc', 'security')).spec.template.spec.containers[0]!.args).toContain('--exception-namespace=security');
  });

  it('the rendered RBAC allows every API call the background audit and owner events make (and the Lease the args name)', async () => {
    const objs = template(FEATURES, 'pc', 'security');
    const rules = grantedRules(objs, 'pc-portcullis', 'security');
    const args = deployment(objs).spec.template.spec.containers[0]!.args!;
    const arg = (flag: string) => args.find((a) => a.startsWith(`--${flag}=`))?.slice(flag.length + 3);
    const config = parseConfig((one(objs, 'ConfigMap') as K8sObject & { data: Record<string, string> }).data['config.yaml']!);
    const owner = (apiVersion: string, kind: string, name: string, uid: string) => [{ apiVersion, kind, name, uid, controller: true }];
    const root = { containers: [{ name: 'app', image: 'registry.example/app:1.2.3', securityContext: { runAsUser: 0 } }] };
    const managed = { 'app.kubernetes.io/managed-by': 'portcullis' };
    const { client, calls } = recordingApi({
      'apps/deployments': [{ metadata: { name: 'web', namespace: 'shop', uid: 'd-web' }, spec: { template: { spec: root } } }],
      'apps/replicasets': [{ metadata: { name: 'web-1', namespace: 'shop', uid: 'rs-web-1', ownerReferences: owner('apps/v1', 'Deployment', 'web', 'd-web') }, spec: { template: { spec: root } } }],
      // a namespace without a report yet (created)
      'batch/cronjobs': [{ metadata: { name: 'nightly', namespace: 'ops', uid: 'cj' }, spec: { jobTemplate: { spec: { template: { spec: root } } } } }],
      'batch/jobs': [{ metadata: { name: 'nightly-1', namespace: 'ops', uid: 'job-1', ownerReferences: owner('batch/v1', 'CronJob', 'nightly', 'cj') }, spec: { template: { spec: root } } }],
      '/pods': [{ metadata: { name: 'web-1-a', namespace: 'shop', uid: 'p1', ownerReferences: owner('apps/v1', 'ReplicaSet', 'web-1', 'rs-web-1') }, spec: root }],
      // an out-of-date report (replaced), one of a namespace with no workloads left and a cluster report (deleted)
      'wgpolicyk8s.io/policyreports': [
        { metadata: { name: 'portcullis', namespace: 'shop', labels: managed, resourceVersion: '1' }, summary: { pass: 9 }, results: [] },
        { metadata: { name: 'portcullis', namespace: 'gone', labels: managed, resourceVersion: '1' }, summary: { pass: 1 }, results: [] },
      ],
      'wgpolicyk8s.io/clusterpolicyreports': [{ metadata: { name: 'portcullis-cluster', labels: managed, resourceVersion: '1' }, summary: { pass: 1 }, results: [] }],
    });
    const logger = pino({ level: 'silent' });
    let scanned!: () => void;
    const firstScan = new Promise<void>((resolve) => (scanned = resolve));
    const audit = startBackgroundAudit({
      client,
      engine: createEngine({ config: () => config }),
      config: () => config,
      logger,
      intervalMs: Number(arg('audit-interval')) * 60_000,
      tickMs: 10,
      lease: { namespace: 'security', name: arg('audit-lease-name')!, identity: 'pc-portcullis-0' },
      writeReports: args.includes('--audit-reports'),
      onScan: () => scanned(),
    });
    await firstScan;
    // a renewal (update) happens on a later check
    while (!calls.some((c) => c.resource === 'leases' && c.verb === 'update')) await new Promise((r) => setTimeout(r, 10));
    await audit.stop();

    const events = createOwnerEventRecorder({ client, logger });
    const review = (name: string, namespace: string, ownerRef: unknown[]): AdmissionRequest => ({
      apiVersion: 'admission.k8s.io/v1', uid: name, group: '', version: 'v1', kind: 'Pod', resource: 'pods', namespace,
      operation: 'CREATE', dryRun: false, object: { metadata: { generateName: `${name}-`, ownerReferences: ownerRef } },
    });
    const denied = { allowed: false, violations: [], message: '[require-non-root-user] runs as root', warnings: [], auditAnnotations: {} };
    events.record(review('web-1', 'shop', owner('apps/v1', 'ReplicaSet', 'web-1', 'rs-web-1')), denied);
    events.record(review('nightly-1', 'ops', owner('batch/v1', 'Job', 'nightly-1', 'job-1')), denied);
    await events.idle();
    expect(events.stats).toMatchObject({ recorded: 2, failed: 0 });
    await events.close();

    const kinds = new Set(calls.map((c) => `${c.verb} ${c.group}/${c.resource}`));
    // the code paths ran: every verb the RBAC grants was exercised at least once (else this test proves less)
    for (const k of ['list /pods', 'list apps/replicasets', 'list batch/cronjobs', 'create coordination.k8s.io/leases', 'get coordination.k8s.io/leases', 'update coordination.k8s.io/leases',
      'list wgpolicyk8s.io/policyreports', 'create wgpolicyk8s.io/policyreports', 'update wgpolicyk8s.io/policyreports', 'delete wgpolicyk8s.io/policyreports', 'delete wgpolicyk8s.io/clusterpolicyreports',
      'create events.k8s.io/events', 'get apps/replicasets', 'get batch/jobs']) {
      expect(kinds, k).toContain(k);
    }
    expect(calls.filter((c) => !allowed(rules, c))).toEqual([]);
  });

  it('certManager mode: Certificate for the Service names, inject-ca-from, the Secret mounted as --tls-cert/--tls-key', () => {
    const objs = template({ 'certificates.mode': 'certManager' });
    const vwc = one(objs, 'ValidatingWebhookConfiguration');
    expect(vwc.metadata.annotations?.['cert-manager.io/inject-ca-from']).toBe('portcullis/portcullis-tls');
    const cert = one(objs, 'Certificate', 'portcullis-tls') as K8sObject & { spec: Record<string, any> };
    expect(cert.spec.secretName).toBe('portcullis-tls');
    expect(cert.spec.dnsNames).toContain('portcullis.portcullis.svc');
    expect(cert.spec.issuerRef).toEqual({ name: 'portcullis-ca', kind: 'Issuer', group: 'cert-manager.io' });
    expect(find(objs, 'Issuer')).toHaveLength(2);
    const pod = deployment(objs).spec.template.spec;
    expect(pod.containers[0]!.args).toEqual(expect.arrayContaining(['--tls-cert=/etc/portcullis/tls/tls.crt', '--tls-key=/etc/portcullis/tls/tls.key']));
    expect(pod.volumes).toContainEqual({ name: 'tls', secret: { secretName: 'portcullis-tls' } });
    const external = template({ 'certificates.mode': 'certManager', 'certificates.certManager.issuerRef.name': 'corp', 'certificates.certManager.issuerRef.kind': 'ClusterIssuer' });
    expect(find(external, 'Issuer')).toHaveLength(0);
    expect((one(external, 'Certificate') as K8sObject & { spec: Record<string, any> }).spec.issuerRef).toEqual({ name: 'corp', kind: 'ClusterIssuer', group: 'cert-manager.io' });
  });

  it('provided mode: the Secret and the caBundle from values; a missing caBundle is refused', () => {
    const objs = template({}, 'portcullis', 'portcullis', ['-f', providedFile]);
    const secret = one(objs, 'Secret') as K8sObject & { data: Record<string, string> };
    expect(Buffer.from(secret.data['tls.crt']!, 'base64').toString()).toBe(certs.cert);
    const vwc = one(objs, 'ValidatingWebhookConfiguration') as K8sObject & { webhooks: Array<{ clientConfig: { caBundle: string } }> };
    for (const w of vwc.webhooks) expect(Buffer.from(w.clientConfig.caBundle, 'base64').toString()).toBe(certs.ca);
    const res = helm(['template', 'x', CHART, '--kube-version', KUBE_VERSION, '--set', 'certificates.mode=provided']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('certificates.provided.caBundle');
  });

  it('pins the image by digest when asked and refuses the latest tag', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(deployment(template({ 'image.digest': digest })).spec.template.spec.containers[0]!.image).toBe(`ghcr.io/portcullis-dev/portcullis:0.1.0@${digest}`);
    expect(deployment(template({ 'image.tag': '1.2.3' })).spec.template.spec.containers[0]!.image).toBe('ghcr.io/portcullis-dev/portcullis:1.2.3');
    expect(helm(['template', 'x', CHART, '--kube-version', KUBE_VERSION, '--set', 'image.tag=latest']).code).not.toBe(0);
    expect(helm(['template', 'x', CHART, '--kube-version', KUBE_VERSION, '--set', 'certificates.mode=bogus']).code).not.toBe(0);
  });

  it('has a helm test pod that runs node from our image (no shell) and passes our policies too', () => {
    const pod = one(template(), 'Pod', 'portcullis-test-readyz') as K8sObject & { spec: PodSpec };
    expect(pod.metadata.annotations?.['helm.sh/hook']).toBe('test');
    const c = pod.spec.containers[0]!;
    expect(c.image).toBe('ghcr.io/portcullis-dev/portcullis:0.1.0');
    expect(c.command?.slice(0, 2)).toEqual(['/nodejs/bin/node', '-e']);
    expect(c.env).toContainEqual({ name: 'URL', value: 'https://portcullis.portcullis.svc:443/readyz' });
    // not an endpoint of the Service
    expect(pod.metadata.labels?.['app.kubernetes.io/name']).not.toBe('portcullis');
    // the script itself works: run it against a closed port, it exits 1 with an error
    const res = spawnSync(process.execPath, ['-e', c.command![2]!], { env: { URL: 'https://127.0.0.1:1/readyz', CA: certs.ca }, encoding: 'utf8', timeout: 10_000 });
    expect(res.status).toBe(1);
  });

  it.each(VARIANTS)('dogfood: helm template | portcullis audit -f - passes every offline policy: %s', (_name, values, extra) => {
    const res = spawnSync(process.execPath, [CLI, 'audit', '-f', '-'], { input: templateText(values, 'portcullis', 'portcullis', extra), encoding: 'utf8', timeout: 60_000 });
    expect(res.status, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(/Deployment/);
  });

  it('deploy/portcullis.yaml is what deploy/render.sh renders from the chart', () => {
    const res = spawnSync('bash', [join(REPO_ROOT, 'deploy', 'render.sh'), '--check'], { encoding: 'utf8', env: { ...process.env, HELM } });
    expect(res.status, res.stdout + res.stderr).toBe(0);
  });
});
