import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './load.js';
import { DEFAULT_CONFIG_YAML } from './defaults.js';

function problems(text: string): readonly { path: string; reason: string }[] {
  try {
    parseConfig(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('loads the built-in default with every policy defaulted', () => {
    const config = parseConfig(DEFAULT_CONFIG_YAML);
    expect(config.mode).toBe('enforce');
    expect(config.registry.enabled).toBe(true);
    expect(config.excludeNamespaces).toEqual(['kube-system']);
    expect(config.policies['require-non-root-user']).toEqual({
      action: 'deny',
      excludeImages: [],
      params: { requireRunAsNonRoot: false, allowNamedUsers: false, onError: 'fallback' },
    });
    expect(config.policies['require-signed-images']?.action).toBe('off');
    expect(config.policies['require-drop-all-capabilities']?.params).toEqual({ allowedCapabilities: ['NET_BIND_SERVICE'] });
  });

  it('fills defaults for omitted sections', () => {
    const config = parseConfig('apiVersion: portcullis.dev/v1alpha1\nkind: PortcullisConfig\n');
    expect(config.policies['disallow-latest-tag']).toEqual({ action: 'deny', excludeImages: [], params: { disallowedTags: ['latest'], requireDigest: false } });
  });

  it('takes per-policy image exclusions, audit namespaces and parameters', () => {
    const config = parseConfig(`apiVersion: portcullis.dev/v1alpha1
kind: PortcullisConfig
mode: audit
policies:
  disallow-latest-tag: { action: warn, requireDigest: true, exclude: { images: ["registry.k8s.io/**"] } }
audit:
  namespaces: [legacy]
`);
    expect(config.mode).toBe('audit');
    expect(config.auditNamespaces).toEqual(['legacy']);
    expect(config.policies['disallow-latest-tag']).toMatchObject({ action: 'warn', excludeImages: ['registry.k8s.io/**'], params: { requireDigest: true } });
  });

  it('names each error path and reason', () => {
    const found = problems(`apiVersion: portcullis.dev/v1alpha1
kind: PortcullisConfig
mode: block
policies:
  require-non-root-user: { action: reject, requireRunAsNonRoot: "yes" }
exclude: { namespaces: [Kube_System] }
`);
    const paths = found.map((p) => p.path);
    expect(paths).toContain('/mode');
    expect(paths).toContain('/policies/require-non-root-user/action');
    expect(paths).toContain('/policies/require-non-root-user/requireRunAsNonRoot');
    expect(paths).toContain('/exclude/namespaces/0');
    const unknown = problems('apiVersion: portcullis.dev/v1alpha1\nkind: PortcullisConfig\npolicies:\n  no-such-policy: { action: deny }\n');
    expect(unknown).toEqual([{ path: '/policies', reason: expect.stringContaining('"no-such-policy"') }]);
  });

  it('reports YAML syntax errors with their line', () => {
    const found = problems('apiVersion: portcullis.dev/v1alpha1\nkind: [unclosed\n');
    expect(found[0]?.path).toMatch(/^line \d+$/);
  });

  it('checks require-signed-images authorities at load when the policy is on', () => {
    const found = problems(`apiVersion: portcullis.dev/v1alpha1
kind: PortcullisConfig
policies:
  require-signed-images:
    action: deny
    authorities: { team: { keyFile: /nonexistent/cosign.pub, ignoreTlog: true } }
    images: [{ pattern: "registry.example.com/**", authorities: [team, missing] }]
`);
    expect(found.every((p) => p.path === '/policies/require-signed-images')).toBe(true);
    expect(found.length).toBeGreaterThanOrEqual(2);
  });

  it('requires apiVersion and kind', () => {
    expect(problems('mode: enforce\n').map((p) => p.reason).join()).toContain('apiVersion');
  });
  it('podSecurity turns on a profile with its parameters; explicit per-policy settings win', () => {
    const config = parseConfig(`apiVersion: portcullis.dev/v1alpha1
kind: PortcullisConfig
podSecurity: { level: restricted }
policies:
  restrict-sysctls: { action: warn }
  require-drop-all-capabilities: { allowedCapabilities: [NET_BIND_SERVICE, NET_RAW] }
`);
    expect(config.podSecurity).toEqual({ level: 'restricted', action: 'deny' });
    expect(config.policies['restrict-seccomp']).toMatchObject({ action: 'deny', params: { level: 'restricted' } });
    expect(config.policies['disallow-privilege-escalation']?.action).toBe('deny');
    expect(config.policies['require-non-root-user']).toMatchObject({ action: 'deny', params: { requireRunAsNonRoot: true } });
    expect(config.policies['restrict-sysctls']?.action).toBe('warn');
    expect(config.policies['require-drop-all-capabilities']?.params).toEqual({ allowedCapabilities: ['NET_BIND_SERVICE', 'NET_RAW'] });
    expect(config.policies['require-read-only-root-filesystem']?.action).toBe('deny');
    const baseline = parseConfig('apiVersion: portcullis.dev/v1alpha1\nkind: PortcullisConfig\npodSecurity: { level: baseline, action: audit }\n');
    expect(baseline.policies['restrict-seccomp']).toMatchObject({ action: 'audit', params: { level: 'baseline' } });
    expect(baseline.policies['restrict-volume-types']?.action).toBe('off');
    expect(baseline.policies['require-non-root-user']).toMatchObject({ action: 'deny', params: { requireRunAsNonRoot: false } });
  });

  it('defaults: the five original policies as before, PSS baseline controls warn, the rest off', () => {
    const config = parseConfig('apiVersion: portcullis.dev/v1alpha1\nkind: PortcullisConfig\n');
    expect(config.policies['disallow-privileged']?.action).toBe('warn');
    expect(config.policies['restrict-seccomp']?.action).toBe('warn');
    expect(config.policies['restrict-volume-types']?.action).toBe('off');
    expect(config.policies['disallow-privilege-escalation']?.action).toBe('off');
    expect(config.policies['require-non-root-user']?.action).toBe('deny');
    expect(config.podSecurity).toBeUndefined();
    expect(parseConfig('apiVersion: portcullis.dev/v1alpha1\nkind: PortcullisConfig\npodSecurity: null\n').podSecurity).toBeUndefined();
    expect(problems('apiVersion: portcullis.dev/v1alpha1\nkind: PortcullisConfig\npodSecurity: { level: strict }\n').map((p) => p.path)).toContain('/podSecurity/level');
  });
});
