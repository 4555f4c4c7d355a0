// Fails when a policy of policies/index.ts lacks its folder (check, fixtures, test), metadata or docs, or when a
// file that lists policies (README, chart values, deploy/) disagrees with the list.
// UPDATE_POLICY_DOCS=1 npx vitest run policies/fixtures.meta.test.ts rewrites the README table.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { POLICIES, POLICY_IDS } from './index.js';
import { validatePolicies } from '../src/engine/registry.js';
import { parseConfig } from '../src/config/load.js';
import { DEFAULT_CONFIG_YAML } from '../src/config/defaults.js';
import type { Policy } from '../src/engine/types.js';
import { policyTable, TABLE_END, TABLE_START } from './docs.js';

const root = new URL('../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

const DEFAULT_CONFIG_START = '```yaml\napiVersion: portcullis.dev/v1alpha1\nkind: PortcullisConfig\nmode: enforce';

type PolicyMap = Record<string, { action?: string } | undefined>;

// The config.yaml of the ConfigMap in deploy/portcullis.yaml.
function deployedPolicies(): PolicyMap {
  const cm = parseAllDocuments(read('deploy/portcullis.yaml')).map((d) => d.toJS()).find((o) => o?.kind === 'ConfigMap' && o.data?.['config.yaml']);
  return (parse(cm.data['config.yaml']) as { policies: PolicyMap }).policies;
}

describe('policy list', () => {
  it('is valid: unique ids, metadata, defaults for every parameter', () => {
    expect(() => validatePolicies(POLICIES)).not.toThrow();
  });

  for (const policy of POLICIES) {
    it(`${policy.id} has a folder with its check, pass and fail fixtures and a test`, async () => {
      const dir = new URL(`./${policy.id}/`, import.meta.url);
      for (const file of ['policy.ts', 'fixtures.ts', 'policy.test.ts']) expect(existsSync(new URL(file, dir)), file).toBe(true);
      const { fixtures } = await import(`./${policy.id}/fixtures.ts`);
      expect(fixtures.pass.length).toBeGreaterThan(0);
      expect(fixtures.fail.length).toBeGreaterThan(0);
    });

    it(`${policy.id} is documented in the README with each parameter (README or docs/)`, () => {
      expect(read('README.md')).toContain(`| \`${policy.id}\` |`);
      const docs = [read('README.md'), ...readdirSync(new URL('docs/', root)).filter((f) => f.endsWith('.md')).map((f) => read(`docs/${f}`))].join('\n');
      for (const param of Object.keys(policy.paramsSchema)) expect(docs, `${policy.id} parameter ${param}`).toMatch(new RegExp(`\\| \`${param}\` \\||\\b${param}:`));
    });
  }

  it('README policy table and default config are generated from the list', () => {
    const readme = read('README.md');
    const start = readme.indexOf(TABLE_START);
    expect(start).toBeGreaterThan(-1);
    const table = readme.slice(start, readme.indexOf(TABLE_END) + TABLE_END.length);
    const configStart = readme.indexOf(DEFAULT_CONFIG_START);
    expect(configStart).toBeGreaterThan(-1);
    const config = readme.slice(configStart + '```yaml\n'.length, readme.indexOf('```', configStart + 7));
    if (process.env.UPDATE_POLICY_DOCS) {
      writeFileSync(new URL('README.md', root), readme.replace(table, policyTable(POLICIES)).replace(config, DEFAULT_CONFIG_YAML));
      return;
    }
    expect(table).toBe(policyTable(POLICIES));
    expect(config, 'the README shows the built-in default config').toBe(DEFAULT_CONFIG_YAML);
  });

  it('the built-in default config, chart values and deploy/ keep every policy at its default action', () => {
    const builtIn = parseConfig(DEFAULT_CONFIG_YAML);
    const chart = (parse(read('charts/portcullis/values.yaml')) as { config: { policies: PolicyMap } }).config.policies;
    const deployed = deployedPolicies();
    // chart values and deploy/ list policies without an action (the server's default applies, and podSecurity can turn
    // a profile on: an explicit action would win over it) or at their default action; every policy that is on by
    // default is listed, so users see it; a policy that is off by default may be left out
    for (const policy of POLICIES) {
      expect(builtIn.policies[policy.id]?.action, `default config: ${policy.id}`).toBe(policy.defaultAction);
      for (const [where, listed] of [['chart values', chart], ['deploy/portcullis.yaml', deployed]] as const) {
        if (policy.defaultAction === 'off' && listed[policy.id] === undefined) continue;
        expect(listed[policy.id], `${where}: ${policy.id}`).toBeDefined();
        expect(listed[policy.id]?.action ?? policy.defaultAction, `${where}: ${policy.id}`).toBe(policy.defaultAction);
      }
    }
    for (const id of [...Object.keys(chart), ...Object.keys(deployed)]) expect(POLICY_IDS, `listed policy ${id}`).toContain(id);
  });

  it('rejects duplicate ids, parameters without defaults and missing metadata', () => {
    const base = POLICIES[0] as Policy;
    const invalid = expect.objectContaining({ code: 'POLICY_LIST_INVALID' });
    expect(() => validatePolicies([base, base])).toThrowError(invalid);
    expect(() => validatePolicies([{ ...base, defaults: {} }])).toThrowError(invalid);
    expect(() => validatePolicies([{ ...base, id: 'Bad Id' }])).toThrowError(invalid);
    expect(() => validatePolicies([{ ...base, severity: 'severe' as never }])).toThrowError(invalid);
    expect(() => validatePolicies([{ ...base, category: '' as never }])).toThrowError(invalid);
    expect(() => validatePolicies([{ ...base, description: '' }])).toThrowError(invalid);
  });

  it('keeps the public policy ids', () => {
    expect(POLICY_IDS).toEqual(expect.arrayContaining(
      ['disallow-latest-tag', 'require-drop-all-capabilities', 'require-non-root-user', 'require-provenance', 'require-read-only-root-filesystem', 'require-signed-images', 'require-vulnerability-scan'],
    ));
  });
});
