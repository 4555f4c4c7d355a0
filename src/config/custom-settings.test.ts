import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './load.js';
import { parsePolicyAction, parseSet, applyOverrides } from './overrides.js';
import { configSchema, CONFIG_KEYS } from './schema.js';
import { registrySchema } from './registry-schema.js';
import { POLICIES } from '../../policies/index.js';
import { renderFailSafe } from '../failsafe/vap.js';

const HEAD = 'apiVersion: portcullis.dev/v1alpha1\nkind: PortcullisConfig\n';
const DECL = `customPolicies:
  policies:
    - id: limit-replicas
      title: At most a few replicas
      action: warn
      exclude: { images: ["registry.example/legacy/*"] }
      params: { maxReplicas: 5, teams: [a] }
      validations:
        - expression: "!has(object.spec.replicas) || object.spec.replicas <= params.maxReplicas"
`;

function problems(text: string, baseDir?: string): ConfigError['problems'] {
  try {
    parseConfig(text, 'config', undefined, baseDir);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('policies.<custom-id>: overrides of a custom policy', () => {
  it('takes the declaration as defaults', () => {
    const config = parseConfig(HEAD + DECL);
    expect(config.policies['limit-replicas']).toEqual({ action: 'warn', excludeImages: ['registry.example/legacy/*'], params: { maxReplicas: 5, teams: ['a'] } });
  });

  it('lets policies.<id> override the action, exclude.images (replaced) and each parameter', () => {
    const config = parseConfig(`${HEAD}${DECL}policies:\n  limit-replicas: { action: deny, maxReplicas: 3, exclude: { images: ["x/*"] } }\n`);
    expect(config.policies['limit-replicas']).toEqual({ action: 'deny', excludeImages: ['x/*'], params: { maxReplicas: 3, teams: ['a'] } });
  });

  it('refuses an undeclared parameter, a parameter of another type and a bad action, naming the key', () => {
    expect(problems(`${HEAD}${DECL}policies:\n  limit-replicas: { action: block }\n`)).toEqual([{ path: '/policies/limit-replicas/action', reason: expect.stringContaining('expected one of') }]);
    const found = problems(`${HEAD}${DECL}policies:\n  limit-replicas: { maxReplica: 3, teams: b }\n`);
    expect(found).toEqual([
      { path: '/policies/limit-replicas', reason: 'unknown key "maxReplica"' },
      { path: '/policies/limit-replicas/teams', reason: 'must be array' },
    ]);
  });

  it('refuses settings for an id neither built-in nor declared, naming it and the declared ones', () => {
    expect(problems(`${HEAD}${DECL}policies:\n  limit-replica: { action: deny }\n`)).toEqual([
      { path: '/policies', reason: 'expected a built-in or declared custom policy id, got "limit-replica" (custom policies: limit-replicas)' },
    ]);
    expect(problems(`${HEAD}policies:\n  mine: { action: deny }\n`)[0]?.reason).toContain('(custom policies: none declared)');
  });

  it('refuses a custom id a built-in has, one declared twice, and parameters named action or exclude', () => {
    const builtIn = problems(`${HEAD}${DECL.replace('limit-replicas', 'disallow-latest-tag')}`);
    expect(builtIn).toEqual([{ path: '/customPolicies/policies/0/id', reason: 'expected an id no built-in policy has, got "disallow-latest-tag"' }]);
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-custom-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'again.yaml'), 'id: limit-replicas\ntitle: Again\nvalidations: [{ expression: "true" }]\n');
    expect(problems(`${HEAD}${DECL}  directories: [${dir}]\n`)).toEqual([{ path: `${join(dir, 'again.yaml')} document 0/id`, reason: 'expected a policy id not already declared, got "limit-replicas"' }]);
    expect(problems(`${HEAD}${DECL.replace('maxReplicas: 5', 'action: deny')}`).map((p) => p.path)).toEqual(['/customPolicies/policies/0/params/action']);
  });

  it('names the file of a policy whose rule does not compile, with the rule and the column', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-custom-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'bad.yaml'), 'id: bad\ntitle: Bad\ncontainerValidations: [{ expression: "container.name.shout()" }]\n');
    const [p] = problems(`${HEAD}customPolicies: { directories: [.] }\n`, dir);
    expect(p?.path).toBe(`${join(dir, 'bad.yaml')} document 0: /customPolicies/bad/containerValidations/0/expression`);
    expect(p?.reason).toMatch(/^column \d+: /);
  });

  it('leaves custom policies out of podSecurity presets; audit mode is global', () => {
    const config = parseConfig(`${HEAD}mode: audit\npodSecurity: { level: restricted, action: warn }\n${DECL}`);
    expect(config.policies['limit-replicas']?.action).toBe('warn');
    expect(config.mode).toBe('audit');
    const denied = parseConfig(`${HEAD}podSecurity: { level: restricted, action: audit }\n${DECL.replace('action: warn', 'action: deny')}`);
    expect(denied.policies['limit-replicas']?.action).toBe('deny');
  });

  it('the fail-safe ValidatingAdmissionPolicy takes the overridden action and parameters', () => {
    const config = parseConfig(`${HEAD}${DECL}policies:\n  limit-replicas: { action: deny, maxReplicas: 3 }\n`);
    const docs = renderFailSafe(config).documents.filter((d) => JSON.stringify(d).includes('portcullis-limit-replicas'));
    expect(JSON.stringify(docs[0])).toContain('{\\"maxReplicas\\": dyn(3)');
    expect(docs[1]).toMatchObject({ kind: 'ValidatingAdmissionPolicyBinding', spec: { validationActions: ['Deny'] } });
  });

  it('lists the directories it read, resolved from the config file folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-custom-'));
    dirs.push(dir);
    expect(parseConfig(`${HEAD}customPolicies: { directories: [., /abs] }\n`.replace('/abs', dir), 'config', undefined, dir).customPolicyDirectories).toEqual([dir, dir]);
  });
});

describe('--set and --policy for custom policies', () => {
  it('routes ID.KEY to policies.ID for any id, config keys to the top level', () => {
    expect(parseSet('limit-replicas.maxReplicas=3').path).toEqual(['policies', 'limit-replicas', 'maxReplicas']);
    expect(parseSet('policies.limit-replicas.action=warn').path).toEqual(['policies', 'limit-replicas', 'action']);
    expect(parseSet('exclude.namespaces=[a]').path).toEqual(['exclude', 'namespaces']);
    expect(parseSet('mode=audit').path).toEqual(['mode']);
    expect(parsePolicyAction('limit-replicas=off').path).toEqual(['policies', 'limit-replicas', 'action']);
    expect(() => parsePolicyAction('Bad_Id=off')).toThrow(ConfigError);
    expect(() => parsePolicyAction('limit-replicas=block')).toThrow(ConfigError);
  });

  it('applies them over the declaration; an unknown id is refused at load, named', () => {
    const text = applyOverrides(HEAD + DECL, [parseSet('limit-replicas.maxReplicas=2'), parsePolicyAction('limit-replicas=deny')]);
    expect(parseConfig(text).policies['limit-replicas']).toMatchObject({ action: 'deny', params: { maxReplicas: 2 } });
    const typo = applyOverrides(HEAD + DECL, [parsePolicyAction('limit-replica=deny')]);
    expect(problems(typo)[0]?.reason).toContain('got "limit-replica"');
  });

  it('knows every top-level config key', () => {
    expect([...CONFIG_KEYS].sort()).toEqual(Object.keys(configSchema(POLICIES, registrySchema).properties as object).sort());
  });
});
