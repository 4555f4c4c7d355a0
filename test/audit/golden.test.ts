// Golden files for every output format (test/golden/*). UPDATE_GOLDEN=1 rewrites them.
import { POLICIES } from '../../policies/index.js';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { Ajv } from 'ajv';
import * as draft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parseConfig } from '../../src/config/load.js';
import { DEFAULT_CONFIG_YAML } from '../../src/config/defaults.js';
import { createEngine } from '../../src/engine/evaluate.js';
import { readManifests } from '../../src/audit/manifests.js';
import { evaluateManifest } from '../../src/audit/offline.js';
import { formatJson, formatTable } from '../../src/audit/format.js';
import { formatSarif } from '../../src/audit/sarif.js';
import { formatJunit } from '../../src/audit/junit.js';
import { scanCluster } from '../../src/audit/scan.js';
import type { ScanReport } from '../../src/audit/scan.js';
import { enforcePreview, formatPreviewTable, formatScanJson, formatScanTable, formatScanYaml } from '../../src/audit/scan-format.js';
import { clusterFixture } from './cluster-fixture.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const golden = `${root}test/golden/`;
const config = parseConfig(DEFAULT_CONFIG_YAML, 'default');
const engine = createEngine({ config: () => config });
const VERSION = '0.0.0-test';

// Compares with the golden file (or writes it with UPDATE_GOLDEN=1); a missing golden file fails.
function matchGolden(name: string, actual: string): void {
  const path = `${golden}${name}`;
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(golden, { recursive: true });
    writeFileSync(path, actual);
  }
  if (!existsSync(path)) throw new Error(`expected the golden file test/golden/${name}, got none: run UPDATE_GOLDEN=1 npx vitest run test/audit/golden.test.ts, check the file and commit it`);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

async function auditResults(file = 'test/golden/manifests/workloads.yaml') {
  const manifests = readManifests([`${root}${file}`], () => '').map((m) => ({ ...m, file }));
  return Promise.all(manifests.map((m) => evaluateManifest(engine, m, config)));
}

async function helmStdinResults() {
  const { parseManifests } = await import('../../src/audit/manifests.js');
  const text = readFileSync(`${golden}manifests/helm-rendered.yaml`, 'utf8');
  return Promise.all(parseManifests(text, '<stdin>').map((m) => evaluateManifest(engine, m, config)));
}

async function scanReport(): Promise<ScanReport> {
  const report = await scanCluster({ client: clusterFixture(), engine, config: () => config, pageSize: 2 });
  return { ...report, stats: { ...report.stats, startedAt: '2026-01-02T03:04:05.000Z', durationMs: 1234 } };
}

function sarifValidator() {
  const schema = JSON.parse(readFileSync(`${golden}sarif-schema-2.1.0.json`, 'utf8')) as Record<string, unknown>;
  const Draft04 = ((draft04 as unknown as { default: unknown }).default ?? draft04) as new (o: Record<string, unknown>) => Ajv;
  const ajv = new Draft04({ allErrors: true, strict: false, unicodeRegExp: false }) // the schema's language pattern is not valid with the u flag;
  addFormats.default(ajv);
  return ajv.compile(schema);
}

function jsonSchemaValidator(file: string) {
  const ajv = new Ajv({ allErrors: true, strict: true });
  addFormats.default(ajv);
  return ajv.compile(JSON.parse(readFileSync(`${root}src/audit/schemas/${file}`, 'utf8')) as Record<string, unknown>);
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase'].includes(name), parseAttributeValue: false });

describe('portcullis audit outputs', () => {
  it('table', async () => matchGolden('audit.table.txt', formatTable(await auditResults())));

  it('json: golden and valid against the audit/v1 schema', async () => {
    const text = formatJson(await auditResults());
    matchGolden('audit.json', text);
    const validate = jsonSchemaValidator('audit-v1.schema.json');
    expect(validate(JSON.parse(text)), JSON.stringify(validate.errors)).toBe(true);
  });

  it('sarif: golden, valid SARIF 2.1.0, located at the offending container line', async () => {
    const text = formatSarif(await auditResults(), { version: VERSION, baseDir: root, policies: POLICIES });
    matchGolden('audit.sarif.json', text);
    const log = JSON.parse(text);
    const validate = sarifValidator();
    expect(validate(log), JSON.stringify(validate.errors, null, 1)).toBe(true);
    const results = log.runs[0].results as Array<{ ruleId: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }> }>;
    const rules = (log.runs[0].tool.driver.rules as Array<{ id: string; help: { text: string } }>);
    for (const r of results) expect(rules.map((x) => x.id)).toContain(r.ruleId);
    for (const rule of rules) expect(rule.help.text.length).toBeGreaterThan(20);
    // the sidecar is containers[1] of the Deployment: "- name: sidecar" is line 28 of workloads.yaml
    const sidecar = results.filter((r) => r.ruleId === 'require-non-root-user');
    expect(sidecar.map((r) => r.locations[0]?.physicalLocation.region.startLine)).toEqual([28]);
    expect(sidecar[0]?.locations[0]?.physicalLocation.artifactLocation.uri).toBe('test/golden/manifests/workloads.yaml');
    const source = readFileSync(`${golden}manifests/workloads.yaml`, 'utf8').split('\n');
    expect(source[27]).toContain('- name: sidecar');
    // the invalid Pod inside the List is located at its own line, not the List's
    const invalid = results.find((r) => r.ruleId === 'invalid-object');
    expect(source[(invalid?.locations[0]?.physicalLocation.region.startLine ?? 0) - 1]).toContain('- apiVersion: v1');
  });

  it('sarif from helm template on stdin points at the template named in "# Source:"', async () => {
    const text = formatSarif(await helmStdinResults(), { version: VERSION, baseDir: root, policies: POLICIES });
    matchGolden('audit-helm.sarif.json', text);
    const log = JSON.parse(text);
    expect(sarifValidator()(log)).toBe(true);
    expect(new Set(log.runs[0].results.map((r: { locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }> }) => r.locations[0]?.physicalLocation.artifactLocation.uri))).toEqual(new Set(['demo/templates/deployment.yaml']));
  });

  it('junit: golden, well-formed, one test case per resource and policy', async () => {
    const results = await auditResults();
    const text = formatJunit(results, { suiteBy: 'file' });
    matchGolden('audit.junit.xml', text);
    expect(XMLValidator.validate(text)).toBe(true);
    const doc = xml.parse(text) as { testsuites: { tests: string; failures: string; skipped: string; testsuite: Array<{ name: string; tests: string; failures: string; testcase: Array<{ name: string; classname: string; line?: string; failure?: { message: string; type: string }; skipped?: unknown }> }> } };
    const cases = doc.testsuites.testsuite.flatMap((s) => s.testcase);
    expect(Number(doc.testsuites.tests)).toBe(cases.length);
    expect(Number(doc.testsuites.failures)).toBe(cases.filter((c) => c.failure).length);
    for (const s of doc.testsuites.testsuite) expect(Number(s.tests)).toBe(s.testcase.length);
    // Deployment and CronJob: every policy the default config turns on; invalid Pod: 1; kube-system Pod: skipped; ConfigMap: none
    const active = POLICIES.filter((p) => p.defaultAction !== 'off').map((p) => p.id);
    expect(cases.map((c) => c.name)).toEqual([
      ...active.map((id) => `Deployment/shop/web [${id}]`),
      ...active.map((id) => `CronJob/shop/nightly [${id}]`),
      'Pod/shop/broken <&> [invalid-object]',
      'Pod/kube-system/coredns-x',
    ]);
    expect(cases.filter((c) => c.failure).map((c) => c.failure?.type)).toEqual(['require-non-root-user', 'require-drop-all-capabilities', 'disallow-latest-tag', 'invalid-object']);
    expect(cases.find((c) => c.name === 'Deployment/shop/web [require-non-root-user]')?.line).toBe('28');
    expect(cases.at(-1)?.skipped).toBeDefined();
  });
});

describe('portcullis scan outputs', () => {
  it('table', async () => {
    const r = await scanReport();
    matchGolden('scan.table.txt', formatScanTable(r.results, r.stats));
  });

  it('json and yaml: golden, the same document, valid against the scan/v1 schema', async () => {
    const r = await scanReport();
    const json = formatScanJson(r.results, r.stats);
    const yaml = formatScanYaml(r.results, r.stats);
    matchGolden('scan.json', json);
    matchGolden('scan.yaml', yaml);
    expect(parseYaml(yaml)).toEqual(JSON.parse(json));
    const validate = jsonSchemaValidator('scan-v1.schema.json');
    expect(validate(JSON.parse(json)), JSON.stringify(validate.errors)).toBe(true);
  });

  it('sarif: golden and valid SARIF 2.1.0 (logical locations: no file)', async () => {
    const r = await scanReport();
    const text = formatSarif(r.results, { version: VERSION, baseDir: root, policies: POLICIES });
    matchGolden('scan.sarif.json', text);
    const validate = sarifValidator();
    expect(validate(JSON.parse(text)), JSON.stringify(validate.errors, null, 1)).toBe(true);
  });

  it('junit: golden and well-formed, one suite per namespace', async () => {
    const r = await scanReport();
    const text = formatJunit(r.results, { suiteBy: 'namespace' });
    matchGolden('scan.junit.xml', text);
    expect(XMLValidator.validate(text)).toBe(true);
    const doc = xml.parse(text) as { testsuites: { testsuite: Array<{ name: string }> } };
    expect(doc.testsuites.testsuite.map((s) => s.name)).toEqual(['kube-system', 'payments', 'shop']);
  });

  it('enforce preview: table and json', async () => {
    // payments is in audit mode and disallow-latest-tag only warns: the preview shows what switching would refuse
    const previewConfig = parseConfig(
      DEFAULT_CONFIG_YAML.replace(/disallow-latest-tag: *\{ action: deny \}/, 'disallow-latest-tag: { action: warn }').replace('exclude:', 'audit:\n  namespaces: [payments]\nexclude:'),
      'preview',
    );
    const scanned = await scanCluster({ client: clusterFixture(), engine: createEngine({ config: () => previewConfig }), config: () => previewConfig });
    const r = { results: scanned.results };
    expect(previewConfig.auditNamespaces).toEqual(['payments']);
    const all = enforcePreview(r.results, previewConfig, {});
    matchGolden('preview.table.txt', formatPreviewTable(all));
    matchGolden('preview.json', `${JSON.stringify(all, null, 2)}\n`);
    const one = enforcePreview(r.results, previewConfig, { policies: ['disallow-latest-tag'], namespaces: ['shop'] });
    expect(one.summary).toEqual({ workloads: 2, pods: 4, namespaces: 1 });
    expect(one.namespaces[0]?.policies[0]).toMatchObject({ policy: 'disallow-latest-tag', currentAction: 'warn' });
    expect(one.namespaces[0]?.policies[0]?.workloads.every((w) => !w.alreadyEnforced)).toBe(true);
    matchGolden('preview-latest-shop.table.txt', formatPreviewTable(one));
  });
});
