// The Helm chart: lint, render in every certificate mode and in audit mode, and check what it renders.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { REPO_ROOT } from './dockerfile.js';
import { CHART, CLI, find, haveHelm, helm, HELM, KUBE_VERSION, one, template, templateText, valueFlags } from './helm.js';
import type { K8sObject, Values } from './helm.js';
import { providedCerts } from './pki.js';

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
  [
    'everything on',
    { 'networkPolicy.enabled': 'true', 'networkPolicy.restrictEgress': 'true', 'networkPolicy.apiServerCIDRs[0]': '10.0.0.0/8', 'serviceMonitor.enabled': 'true', 'priorityClassName': 'system-cluster-critical' },
    ['--set', 'config.registry.usePullSecrets=true'],
  ],
];

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

describe.skipIf(!haveHelm)('helm chart charts/portcullis', () => {
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
    expect(c.args).toContain('--config=/etc/portcullis/config/config.yaml');
    expect(c.env).toContainEqual({ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } });
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
  });

  it('renders the same two webhooks as deploy/webhook.yaml (release portcullis in namespace portcullis)', () => {
    const shipped = parse(readFileSync(join(REPO_ROOT, 'deploy', 'webhook.yaml'), 'utf8')) as { webhooks: unknown[] };
    const rendered = one(template(), 'ValidatingWebhookConfiguration') as K8sObject & { webhooks: unknown[] };
    expect(rendered.metadata.name).toBe('portcullis');
    expect(rendered.webhooks).toEqual(shipped.webhooks);
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
    const objs = template({}, 'pc', 'security');
    const role = one(objs, 'Role') as K8sObject & { rules: unknown[] };
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['pc-portcullis-tls'], verbs: ['get', 'update'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
    ]);
    const clusterRoles = find(objs, 'ClusterRole') as Array<K8sObject & { rules: unknown[] }>;
    expect(clusterRoles).toHaveLength(1);
    expect(clusterRoles[0]!.rules).toEqual([
      { apiGroups: ['admissionregistration.k8s.io'], resources: ['validatingwebhookconfigurations'], resourceNames: ['pc-portcullis'], verbs: ['get', 'patch'] },
    ]);
    const pod = deployment(objs).spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.containers[0]!.args).toEqual(
      expect.arrayContaining(['--cert-mode=self', '--cert-secret=pc-portcullis-tls', '--webhook-config=pc-portcullis', '--service-name=pc-portcullis']),
    );
    // nothing renders a caBundle: the pods patch it in (helm keeps it across upgrades)
    const vwc = one(objs, 'ValidatingWebhookConfiguration') as K8sObject & { webhooks: Array<{ clientConfig: Record<string, unknown> }> };
    for (const w of vwc.webhooks) expect(w.clientConfig).not.toHaveProperty('caBundle');
  });

  it('grants Secret reads only when pull-secret look-ups are on', () => {
    for (const mode of ['certManager', 'provided']) {
      const objs = template({ 'certificates.mode': mode, 'certificates.provided.secretName': 'x', 'certificates.provided.caBundle': 'PEM' });
      expect(find(objs, 'Role')).toHaveLength(0);
      expect(find(objs, 'ClusterRole')).toHaveLength(0);
      expect(deployment(objs).spec.template.spec.automountServiceAccountToken).toBe(false);
    }
    const objs = template({ 'certificates.mode': 'certManager' }, 'portcullis', 'portcullis', ['--set', 'config.registry.usePullSecrets=true']);
    const cr = one(objs, 'ClusterRole', 'portcullis-pull-secrets') as K8sObject & { rules: unknown[] };
    expect(cr.rules).toEqual([{ apiGroups: [''], resources: ['secrets', 'serviceaccounts'], verbs: ['get'] }]);
    expect(deployment(objs).spec.template.spec.automountServiceAccountToken).toBe(true);
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
    const pod = one(template(), 'Pod') as K8sObject & { spec: PodSpec };
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
