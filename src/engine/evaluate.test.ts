import { describe, expect, it } from 'vitest';
import { createEngine } from './evaluate.js';
import { configWith, engineWith } from '../../test/helpers/engine.js';
import { compliantSpec, evaluateObject, KINDS, objectOf, specWith } from '../../test/helpers/pods.js';
import { groupOf } from '../workload/podspecs.js';

const [POD, , , DEPLOYMENT] = [KINDS[0]!, KINDS[1]!, KINDS[2]!, KINDS[3]!];
const ALL = {
  'require-non-root-user': {},
  'require-drop-all-capabilities': {},
  'disallow-latest-tag': {},
  'require-read-only-root-filesystem': {},
};
const rootSpec = () => specWith((s) => (s.containers[0].securityContext.runAsUser = 0));
const deadline = () => ({ deadline: Date.now() + 5000 });

describe('engine', () => {
  it('allows a compliant pod in every kind and denies a root one', async () => {
    const engine = engineWith(ALL);
    for (const kind of KINDS) {
      expect((await evaluateObject(engine, objectOf(kind, compliantSpec()))).allowed).toBe(true);
      expect((await evaluateObject(engine, objectOf(kind, rootSpec()))).allowed).toBe(false);
    }
  });

  it('lists every violation of every container', async () => {
    const spec = specWith((s) => {
      s.containers.push({ name: 'sidecar', image: 'envoy', securityContext: { runAsUser: 0 } });
    });
    const d = await evaluateObject(engineWith(ALL), objectOf(POD, spec));
    expect(d.violations.map((v) => `${v.policy}@${v.container?.list}[${v.container?.index}]`).sort()).toEqual([
      'disallow-latest-tag@containers[1]',
      'require-drop-all-capabilities@containers[1]',
      'require-non-root-user@containers[1]',
      'require-read-only-root-filesystem@containers[1]',
    ]);
    expect(d.message?.split('\n')).toHaveLength(4);
  });

  it('skips DELETE, CONNECT, kinds without pods, other subresources and excluded namespaces', async () => {
    const engine = engineWith(ALL);
    const pod = objectOf(POD, rootSpec());
    const base = { group: '', kind: 'Pod', object: pod, namespace: 'default' } as const;
    expect((await engine.evaluate({ ...base, operation: 'DELETE' }, deadline())).skipped).toMatch(/DELETE/);
    expect((await engine.evaluate({ ...base, operation: 'CONNECT' }, deadline())).skipped).toMatch(/CONNECT/);
    expect((await engine.evaluate({ ...base, operation: 'UPDATE', subresource: 'status' }, deadline())).skipped).toMatch(/status/);
    expect((await engine.evaluate({ ...base, kind: 'ConfigMap', operation: 'CREATE' }, deadline())).skipped).toMatch(/ConfigMap/);
    expect((await engine.evaluate({ ...base, namespace: 'kube-system', operation: 'CREATE' }, deadline())).skipped).toMatch(/kube-system/);
  });

  it('audit mode turns denials into warnings and audit annotations', async () => {
    const config = configWith({ 'require-non-root-user': { action: 'deny' } }, { mode: 'audit' });
    const engine = createEngine({ config: () => config });
    const d = await evaluateObject(engine, objectOf(POD, rootSpec()));
    expect(d.allowed).toBe(true);
    expect(d.violations[0]).toMatchObject({ effect: 'warn', wouldDeny: true });
    expect(d.warnings[0]).toContain('[require-non-root-user]');
    expect(d.auditAnnotations).toMatchObject({ decision: 'would-deny' });
    expect(d.auditAnnotations['require-non-root-user']).toContain('containers[0]');
  });

  it('audit namespaces and the forced-audit endpoint decide in audit mode', async () => {
    const config = configWith({ 'require-non-root-user': { action: 'deny' } }, { audit: { namespaces: ['legacy'] } });
    const engine = createEngine({ config: () => config });
    expect((await evaluateObject(engine, objectOf(POD, rootSpec(), 'p', 'legacy'))).allowed).toBe(true);
    expect((await evaluateObject(engine, objectOf(POD, rootSpec(), 'p', 'default'))).allowed).toBe(false);
    const pod = objectOf(POD, rootSpec());
    const forced = await engine.evaluate({ group: '', kind: 'Pod', operation: 'CREATE', object: pod, namespace: 'default', forceAudit: true }, deadline());
    expect(forced.allowed).toBe(true);
    expect(forced.warnings).toHaveLength(1);
  });

  it('warn and audit actions never deny', async () => {
    const warn = await evaluateObject(engineWith({ 'require-non-root-user': { action: 'warn' } }), objectOf(POD, rootSpec()));
    expect(warn).toMatchObject({ allowed: true });
    expect(warn.warnings).toHaveLength(1);
    const audit = await evaluateObject(engineWith({ 'require-non-root-user': { action: 'audit' } }), objectOf(POD, rootSpec()));
    expect(audit.allowed).toBe(true);
    expect(audit.warnings).toHaveLength(0);
    expect(audit.auditAnnotations['require-non-root-user']).toBeDefined();
  });

  it('skips images matching a policy exclusion glob', async () => {
    const spec = specWith((s) => (s.containers[0].image = 'registry.k8s.io/pause'));
    const engine = engineWith({ 'disallow-latest-tag': { exclude: { images: ['registry.k8s.io/**'] } } });
    expect((await evaluateObject(engine, objectOf(POD, spec))).allowed).toBe(true);
  });

  it('an UPDATE that does not change the pod spec is allowed with warnings', async () => {
    const engine = engineWith(ALL);
    const old = objectOf(DEPLOYMENT, rootSpec());
    const relabelled = { ...old, metadata: { ...old.metadata, labels: { team: 'x' } }, spec: { ...old.spec, replicas: 10 } };
    const d = await evaluateObject(engine, relabelled, { operation: 'UPDATE', oldObject: old });
    expect(d.allowed).toBe(true);
    expect(d.violations.every((v) => v.preexisting && v.wouldDeny)).toBe(true);
    expect(d.warnings[0]).toContain('existing violation');
  });

  it('an UPDATE that changes a container is enforced for that container only', async () => {
    const engine = engineWith(ALL);
    const oldSpec = specWith((s) => s.containers.push({ name: 'legacy', image: 'old:1', securityContext: { runAsUser: 0, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } } }));
    const old = objectOf(DEPLOYMENT, oldSpec);
    const changed = objectOf(DEPLOYMENT, specWith((s) => {
      s.containers[0].image = 'registry.example.com/team/app:latest';
      s.containers.push(oldSpec.containers[1]);
    }));
    const d = await evaluateObject(engine, changed, { operation: 'UPDATE', oldObject: old });
    expect(d.allowed).toBe(false);
    expect(d.violations.find((v) => v.effect === 'deny')?.policy).toBe('disallow-latest-tag');
    expect(d.violations.find((v) => v.container?.name === 'legacy')).toMatchObject({ effect: 'warn', preexisting: true });
  });

  it('pods/ephemeralcontainers UPDATEs check the added debug container', async () => {
    const engine = engineWith(ALL);
    const old = objectOf(POD, compliantSpec());
    const debug = objectOf(POD, specWith((s) => (s.ephemeralContainers = [{ name: 'debugger', image: 'busybox:1.36', targetContainerName: 'app' }])));
    const d = await engine.evaluate(
      { group: groupOf(debug.apiVersion), kind: 'Pod', operation: 'UPDATE', subresource: 'ephemeralcontainers', object: debug, oldObject: old, namespace: 'default' },
      deadline(),
    );
    expect(d.allowed).toBe(false);
    expect(d.violations.every((v) => v.container?.list === 'ephemeralContainers')).toBe(true);
  });

  it('a mistyped field is denied with its path', async () => {
    const spec = specWith((s) => (s.containers[0].securityContext.runAsUser = '0'));
    const d = await evaluateObject(engineWith(ALL), objectOf(POD, spec));
    expect(d.allowed).toBe(false);
    expect(d.message).toContain('spec.containers[0].securityContext.runAsUser');
  });

  it('windows pods are checked only for tags', async () => {
    const spec = specWith((s) => {
      s.os = { name: 'windows' };
      delete s.securityContext;
      delete s.containers[0].securityContext;
      s.containers[0].image = 'mcr.microsoft.com/windows/nanoserver';
    });
    const d = await evaluateObject(engineWith(ALL), objectOf(POD, spec));
    expect(d.violations.map((v) => v.policy)).toEqual(['disallow-latest-tag']);
  });
});
