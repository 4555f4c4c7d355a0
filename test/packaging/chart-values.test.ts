// The chart's values: `config` validated with the server's own schema (generated into values.schema.json), security
// contexts that can be overridden, and the helm test that proves a root Pod is refused.
import { INSTALL, requireTool } from '../helpers/require-tool.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { configSchema } from '../../src/config/schema.js';
import { registrySchema } from '../../src/config/registry-schema.js';
import { POLICIES } from '../../policies/index.js';
import { generateCa, issueServingCert } from '../../src/server/certs.js';
import { CHART, haveHelm, helm, KUBE_VERSION, one, template } from './helm.js';
import type { K8sObject } from './helm.js';

type Json = Record<string, any>;
const valuesSchema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as Json;
const defaults = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Json;

describe('values.schema.json', () => {
  it('holds the server config schema as `config` (npm run chart:schema regenerates it)', () => {
    const { description, ...config } = valuesSchema.properties.config as Json;
    expect(description).toMatch(/generated from the server schema/);
    expect(config, 'charts/portcullis/values.schema.json is stale: run npm run chart:schema').toEqual(configSchema(POLICIES, registrySchema));
  });

  it('accepts the default values and refuses a config the server would refuse', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(valuesSchema);
    expect(validate(defaults), JSON.stringify(validate.errors)).toBe(true);
    // an id that is not built-in may be a custom policy's (known to the server only): its settings' shape is checked
    const custom = structuredClone(defaults);
    custom.config.policies['limit-replicas'] = { action: 'warn', maxReplicas: 3 };
    expect(validate(custom), JSON.stringify(validate.errors)).toBe(true);
    custom.config.policies['limit-replicas'] = { action: 'block' };
    expect(validate(custom)).toBe(false);
    const badId = structuredClone(defaults);
    badId.config.policies['Limit_Replicas'] = { action: 'deny' };
    expect(validate(badId)).toBe(false);
    const badAction = structuredClone(defaults);
    badAction.config.policies['disallow-latest-tag'].action = 'block';
    expect(validate(badAction)).toBe(false);
  });
});

describe.runIf(requireTool('helm', haveHelm, INSTALL.helm))('chart values through helm', () => {
  it('helm template fails on a config typo, naming it', () => {
    for (const [flag, needle] of [
      ['config.policies.disallow-latest-tags.action=block', '/config/policies/disallow-latest-tags/action'],
      ['config.policies.disallow-latest-tag.requireDigests=true', 'requireDigests'],
      ['config.policies.disallow-latest-tag.action=block', '/config/policies/disallow-latest-tag/action'],
      ['config.registry.timeout=soon', 'timeout'],
    ]) {
      const res = helm(['template', 'x', CHART, '--kube-version', KUBE_VERSION, '--set', flag!]);
      expect(res.code, flag).not.toBe(0);
      expect(res.stderr, flag).toContain(needle);
    }
  });

  it('keeps the hardened security contexts by default and lets each key be overridden or dropped (OpenShift)', () => {
    const spec = (objs: K8sObject[]) => (one(objs, 'Deployment') as Json).spec.template.spec as Json;
    const hardened = spec(template());
    expect(hardened.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(hardened.containers[0].securityContext).toEqual({
      runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
    });
    const openshift = template({
      'podSecurityContext.runAsUser': 'null', 'podSecurityContext.runAsGroup': 'null', 'podSecurityContext.fsGroup': 'null',
      'securityContext.runAsUser': 'null', 'securityContext.runAsGroup': 'null',
    });
    expect(spec(openshift).securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec(openshift).containers[0].securityContext).toEqual({
      runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
    });
    for (const pod of openshift.filter((o) => o.kind === 'Pod') as Json[]) expect(pod.spec.containers[0].securityContext).not.toHaveProperty('runAsUser');
    expect(spec(template({ 'securityContext.runAsUser': '1000700000' })).containers[0].securityContext.runAsUser).toBe(1000700000);
  });

  describe('helm test: a dry-run of a root Pod must be refused by portcullis', () => {
    const objs = template({ 'tests.namespace': 'apps' }, 'pc', 'security');
    const pod = one(objs, 'Pod', 'pc-portcullis-test-denies') as Json;
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-helm-test-'));
    const servers: Server[] = [];
    afterAll(() => {
      for (const s of servers) s.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('binds its ServiceAccount to creating Pods in tests.namespace, nothing more', () => {
      expect(pod.metadata.annotations['helm.sh/hook']).toBe('test');
      expect(pod.spec.serviceAccountName).toBe('pc-portcullis-test');
      const role = one(objs, 'Role', 'pc-portcullis-test') as Json;
      expect(role.metadata.namespace).toBe('apps');
      expect(role.rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['create'] }]);
      const binding = one(objs, 'RoleBinding', 'pc-portcullis-test') as Json;
      expect(binding.metadata.namespace).toBe('apps');
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'pc-portcullis-test', namespace: 'security' }]);
      for (const o of [role, binding, one(objs, 'ServiceAccount', 'pc-portcullis-test') as Json]) expect(o.metadata.annotations['helm.sh/hook-weight']).toBe('-1');
    });

    // Runs the pod's script against a stand-in API server answering the dry-run with this status, body and warning.
    async function runScript(status: number, body: Json, mode = 'enforce', warning?: string): Promise<{ code: number | null; out: string; request: Json }> {
      const ca = generateCa('test-ca', 1);
      const serving = issueServingCert(ca, ['127.0.0.1'], 1);
      let request: Json = {};
      const server = createServer({ key: serving.keyPem, cert: serving.certPem }, (req, res) => {
        let text = '';
        req.on('data', (d: Buffer) => (text += d.toString()));
        req.on('end', () => {
          request = { method: req.method, url: req.url, authorization: req.headers.authorization, body: JSON.parse(text) };
          res.writeHead(status, { 'content-type': 'application/json', ...(warning ? { warning } : {}) });
          res.end(JSON.stringify(body));
        });
      });
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const sa = join(dir, `sa-${servers.length}`);
      mkdirSync(sa);
      writeFileSync(join(sa, 'ca.crt'), ca.certPem);
      writeFileSync(join(sa, 'token'), 'test-token\n');
      const env = Object.fromEntries((pod.spec.containers[0].env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]));
      const port = (server.address() as { port: number }).port;
      const child = spawn(process.execPath, ['-e', pod.spec.containers[0].command[2] as string], {
        env: { ...env, MODE: mode, KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(port), SERVICE_ACCOUNT_DIR: sa },
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      return { code, out, request };
    }

    const denial = (webhook: string, line: string) => ({
      kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403,
      message: `pods "portcullis-helm-test-root" is forbidden: admission webhook "${webhook}" denied the request: ${line}`,
    });
    const ROOT_LINE = '[require-non-root-user] container "app" (containers[0]): runs as root (runAsUser: 0 set on the container) — set securityContext.runAsUser to a non-zero UID (e.g. 65532)';

    it('passes when the API server refuses the dry-run with portcullis\'s message', async () => {
      const res = await runScript(403, denial('enforce.portcullis.dev', ROOT_LINE));
      expect(res.code, res.out).toBe(0);
      expect(res.request).toMatchObject({ method: 'POST', url: '/api/v1/namespaces/apps/pods?dryRun=All&fieldManager=portcullis-helm-test', authorization: 'Bearer test-token' });
      expect(res.request.body.spec.containers[0].securityContext).toEqual({ runAsUser: 0 });
    });

    it('fails when the Pod is admitted, or refused by something else', async () => {
      expect((await runScript(201, { kind: 'Pod' })).code).toBe(1);
      expect((await runScript(403, denial('other.example.com', ROOT_LINE))).code).toBe(1);
      expect((await runScript(403, { kind: 'Status', code: 403, message: 'pods is forbidden: User "x" cannot create resource "pods"' })).code).toBe(1);
      expect((await runScript(500, { kind: 'Status', code: 500, message: 'failed calling webhook "enforce.portcullis.dev": x509: certificate signed by unknown authority' })).code).toBe(1);
    });

    it('in audit mode passes on portcullis\'s "would be denied" warning', async () => {
      // (header values are Latin-1 here; the API server's carry the message's UTF-8 bytes)
      const warning = '299 - "audit mode, would be denied: [require-non-root-user] container \\"app\\" (containers[0]): runs as root"';
      expect((await runScript(201, { kind: 'Pod' }, 'audit', warning)).code).toBe(0);
      expect((await runScript(201, { kind: 'Pod' }, 'audit')).code).toBe(1);
    });
  });
});
