// Conformance: portcullis against the PSA, Kyverno and Gatekeeper fixture corpus vendored in ./corpus (see its README).
// PSA must agree on every case; every Kyverno/Gatekeeper disagreement must be listed in docs/conformance.md.
// Run with UPDATE_CONFORMANCE_DOC=1 to rewrite the generated tables in docs/conformance.md.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/evaluate.js';
import { engineWith } from '../helpers/engine.js';
import { evaluateObject } from '../helpers/pods.js';
import type { Json } from '../helpers/pods.js';
import { CORPUS } from './corpus.js';

const DOC = new URL('../../docs/conformance.md', import.meta.url);

type Verdict = 'allow' | 'deny';
type Source = 'psa' | 'kyverno' | 'gatekeeper';
type Control = 'runAsNonRoot' | 'runAsUser' | 'capabilities' | 'latestTag' | 'readOnlyRootFilesystem';

interface Case {
  readonly file: string;
  readonly source: Source;
  readonly control: Control;
  readonly expect: Verdict;
  readonly strict_expect: Verdict;
  readonly doc: number;
  readonly kind: string;
  readonly name: string;
  readonly constraint?: string;
  readonly policy?: string;
  readonly partial?: boolean;
}

interface Result {
  readonly c: Case;
  /** file#doc, plus @constraint-dir for Gatekeeper (one object can be judged under two constraints) */
  readonly id: string;
  readonly got: Verdict;
}

const SOURCES: readonly Source[] = ['psa', 'kyverno', 'gatekeeper'];
const CONTROLS: readonly Control[] = ['runAsNonRoot', 'runAsUser', 'capabilities', 'latestTag', 'readOnlyRootFilesystem'];

/** The named reasons a Kyverno or Gatekeeper verdict may differ from portcullis (headings in docs/conformance.md). */
const CATEGORIES = {
  unsetUser: 'unset runAsUser: portcullis cannot prove non-root without image facts',
  partial: 'partial Kyverno test asserts one rule only',
  dropAllAdd: 'Kyverno require-drop-all allows any add',
  update: 'Gatekeeper skips UPDATE',
  baselineDrop: 'Gatekeeper baseline constraint requires no drop',
} as const;

function caseId(c: Case): string {
  const at = c.constraint ? `@${basename(dirname(c.constraint))}` : '';
  return `${c.file}#${c.doc}${at}`;
}

// The object a case judges: document `doc` among the non-empty YAML documents (comment-only documents are not
// counted by cases.json), unwrapped from an AdmissionReview.
function objectOf(c: Case): Json {
  const docs = parseAllDocuments(readFileSync(new URL(c.file, CORPUS), 'utf8'))
    .map((d) => d.toJS() as unknown)
    .filter((d) => d !== null && d !== undefined);
  const doc = docs[c.doc] as Json | undefined;
  if (!doc) throw new Error(`${c.file}: expected a document ${c.doc}, got ${docs.length} documents`);
  const object = doc.kind === 'AdmissionReview' ? (doc.request?.object as Json) : doc;
  if (object.kind !== c.kind && doc.kind !== c.kind) throw new Error(`${caseId(c)}: expected kind ${c.kind}, got ${String(object.kind)}`);
  if (object.metadata?.name !== c.name) throw new Error(`${caseId(c)}: expected name ${c.name}, got ${String(object.metadata?.name)}`);
  return object;
}

// Gatekeeper exemptImages entries are exact names or "prefix*"; portcullis exclude.images are picomatch globs.
// An exact name becomes an escaped literal; "prefix*" becomes "prefix*" (rest without "/") plus "prefix*/**"
// (rest with "/"), which together match every string starting with prefix, as Gatekeeper's startswith does.
function gatekeeperExemptToGlobs(exempt: readonly string[]): string[] {
  const escape = (s: string): string => s.replace(/[\\*?[\]{}()!+@|^$]/g, (ch) => `\\${ch}`);
  return exempt.flatMap((e) => (e.endsWith('*') ? [`${escape(e.slice(0, -1))}*`, `${escape(e.slice(0, -1))}*/**`] : [escape(e)]));
}

function exemptImagesOf(c: Case): string[] {
  if (!c.constraint) return [];
  const constraint = parseAllDocuments(readFileSync(new URL(c.constraint, CORPUS), 'utf8'))[0]?.toJS() as Json | undefined;
  const exempt = constraint?.spec?.parameters?.exemptImages as string[] | undefined;
  return exempt ? gatekeeperExemptToGlobs(exempt) : [];
}

// The portcullis policy and parameters that correspond to the case's control (see docs/conformance.md, "Mapping").
function policyFor(c: Case): [string, Record<string, unknown>] {
  switch (c.control) {
    case 'runAsNonRoot':
      return ['require-non-root-user', { requireRunAsNonRoot: true }];
    case 'runAsUser':
      // PSA runs runAsNonRoot and runAsUser together in the restricted profile; Kyverno's rule only forbids UID 0
      // and Gatekeeper's MustRunAsNonRoot accepts runAsUser > 0 without runAsNonRoot: both map to the defaults.
      return ['require-non-root-user', c.source === 'psa' ? { requireRunAsNonRoot: true } : {}];
    case 'capabilities':
      return ['require-drop-all-capabilities', {}];
    case 'latestTag':
      return ['disallow-latest-tag', {}];
    case 'readOnlyRootFilesystem':
      return ['require-read-only-root-filesystem', {}];
  }
}

const engines = new Map<string, Engine>();
function engineFor(c: Case): Engine {
  const [id, params] = policyFor(c);
  const images = exemptImagesOf(c);
  const settings = { ...params, ...(images.length ? { exclude: { images } } : {}) };
  const key = JSON.stringify([id, settings]);
  let engine = engines.get(key);
  if (!engine) {
    engine = engineWith({ [id]: settings });
    engines.set(key, engine);
  }
  return engine;
}

// Which named category explains a disagreement; undefined when none does (the test then fails).
function categoryOf(c: Case, got: Verdict): string | undefined {
  if (c.source === 'kyverno' && c.partial) return CATEGORIES.partial;
  if (c.source === 'kyverno' && c.control === 'runAsUser' && got === 'deny') return CATEGORIES.unsetUser;
  if (c.source === 'kyverno' && c.policy === 'drop-all-capabilities' && got === 'deny') return CATEGORIES.dropAllAdd;
  if (c.source === 'gatekeeper' && c.file.endsWith('/update.yaml') && got === 'deny') return CATEGORIES.update;
  if (c.source === 'gatekeeper' && c.control === 'capabilities' && c.file.includes('/psp-capabilities-baseline/') && got === 'deny') {
    return CATEGORIES.baselineDrop;
  }
  return undefined;
}

interface Row {
  source: string;
  control: string;
  id: string;
  expected: string;
  portcullis: string;
  reason: string;
}

const DIFF_START = '<!-- disagreements:start -->';
const DIFF_END = '<!-- disagreements:end -->';
const COUNT_START = '<!-- counts:start -->';
const COUNT_END = '<!-- counts:end -->';

function between(text: string, start: string, end: string): string {
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`docs/conformance.md: expected markers ${start} ... ${end}, got none`);
  return text.slice(a + start.length, b);
}

function replaceBetween(text: string, start: string, end: string, body: string): string {
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`docs/conformance.md: expected markers ${start} ... ${end}, got none`);
  return `${text.slice(0, a + start.length)}\n${body}\n${text.slice(b)}`;
}

// Table rows of a markdown table (header and separator dropped), cells trimmed and unquoted from backticks.
function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.trim().startsWith('|'))
    .slice(2)
    .map((line) =>
      line
        .trim()
        .replace(/^\||\|$/g, '')
        .split('|')
        .map((cell) => cell.trim().replace(/^`|`$/g, '')),
    );
}

function rowKey(r: Pick<Row, 'source' | 'control' | 'id' | 'expected' | 'portcullis'>): string {
  return [r.source, r.control, r.id, r.expected, r.portcullis].join(' | ');
}

interface Count {
  source: Source;
  control: Control;
  cases: number;
  agree: number;
  disagree: number;
  strict: number;
}

function countsOf(results: readonly Result[]): Count[] {
  return SOURCES.flatMap((source) =>
    CONTROLS.flatMap((control) => {
      const rs = results.filter((r) => r.c.source === source && r.c.control === control);
      if (rs.length === 0) return [];
      const agree = rs.filter((r) => r.got === r.c.expect).length;
      const strict = rs.filter((r) => r.got === r.c.strict_expect).length;
      return [{ source, control, cases: rs.length, agree, disagree: rs.length - agree, strict }];
    }),
  );
}

function countsTable(counts: readonly Count[]): string {
  const total = counts.reduce((t, c) => ({ cases: t.cases + c.cases, agree: t.agree + c.agree, disagree: t.disagree + c.disagree, strict: t.strict + c.strict }), {
    cases: 0,
    agree: 0,
    disagree: 0,
    strict: 0,
  });
  return [
    '| source | control | cases | agree | disagree | agree with strict_expect |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...counts.map((c) => `| ${c.source} | ${c.control} | ${c.cases} | ${c.agree} | ${c.disagree} | ${c.strict} |`),
    `| **total** | | **${total.cases}** | **${total.agree}** | **${total.disagree}** | **${total.strict}** |`,
  ].join('\n');
}

function diffTable(rows: readonly Row[]): string {
  return [
    '| source | control | file#doc | expected | portcullis | reason |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.source} | ${r.control} | \`${r.id}\` | ${r.expected} | ${r.portcullis} | ${r.reason} |`),
  ].join('\n');
}

describe('conformance corpus', () => {
  const cases = JSON.parse(readFileSync(new URL('cases.json', CORPUS), 'utf8')) as Case[];
  let results: Result[] = [];

  beforeAll(async () => {
    results = [];
    for (const c of cases) {
      const decision = await evaluateObject(engineFor(c), objectOf(c));
      results.push({ c, id: caseId(c), got: decision.allowed ? 'allow' : 'deny' });
    }
    const counts = countsOf(results);
    console.table(counts.map(({ strict, ...c }) => ({ ...c, 'agree-with-strict': strict })));
    if (process.env.UPDATE_CONFORMANCE_DOC === '1') {
      const rows: Row[] = results
        .filter((r) => r.c.source !== 'psa' && r.got !== r.c.expect)
        .map((r) => ({ source: r.c.source, control: r.c.control, id: r.id, expected: r.c.expect, portcullis: r.got, reason: categoryOf(r.c, r.got) ?? 'UNCLASSIFIED' }));
      let text = readFileSync(DOC, 'utf8');
      text = replaceBetween(text, COUNT_START, COUNT_END, countsTable(counts));
      text = replaceBetween(text, DIFF_START, DIFF_END, diffTable(rows));
      writeFileSync(DOC, text);
    }
  });

  it('indexes every case once', () => {
    expect(results).toHaveLength(cases.length);
    expect(new Set(results.map((r) => `${r.c.control} ${r.id}`)).size).toBe(cases.length);
  });

  it('agrees with PSA on every case', () => {
    const psa = results.filter((r) => r.c.source === 'psa');
    expect(psa.length).toBeGreaterThan(0);
    expect(psa.filter((r) => r.got !== r.c.expect).map((r) => `${r.c.control} ${r.id}: expected ${r.c.expect}, got ${r.got}`)).toEqual([]);
  });

  it('lists exactly the Kyverno and Gatekeeper disagreements in docs/conformance.md', () => {
    const listed = tableRows(between(readFileSync(DOC, 'utf8'), DIFF_START, DIFF_END)).map(
      ([source, control, id, expected, portcullis, reason]) => ({ source, control, id, expected, portcullis, reason }) as Row,
    );
    const actual = results
      .filter((r) => r.c.source !== 'psa' && r.got !== r.c.expect)
      .map((r) => rowKey({ source: r.c.source, control: r.c.control, id: r.id, expected: r.c.expect, portcullis: r.got }));
    expect(listed.map(rowKey).sort()).toEqual(actual.sort());
  });

  it('gives every listed disagreement a named, explained reason', () => {
    const text = readFileSync(DOC, 'utf8');
    const listed = tableRows(between(text, DIFF_START, DIFF_END));
    const known = Object.values(CATEGORIES) as string[];
    for (const row of listed) expect(known, `reason of ${row[2]}`).toContain(row[5]);
    for (const category of new Set(listed.map((row) => row[5]))) expect(text, `a section explaining "${category}"`).toContain(`### ${category}`);
    // the classification in this test and the doc agree row by row
    const byKey = new Map(results.map((r) => [`${r.c.control} ${r.id}`, r]));
    for (const row of listed) {
      const r = byKey.get(`${row[1]} ${row[2]}`);
      expect(r, row[2]).toBeDefined();
      expect(categoryOf(r!.c, r!.got), row[2]).toBe(row[5]);
    }
  });

  it('keeps the counts table in docs/conformance.md current', () => {
    const documented = between(readFileSync(DOC, 'utf8'), COUNT_START, COUNT_END).trim();
    expect(documented).toBe(countsTable(countsOf(results)));
  });

  it('maps Gatekeeper exemptImages onto picomatch globs faithfully', async () => {
    const { default: picomatch } = await import('picomatch');
    const matches = (exempt: string[], image: string): boolean => gatekeeperExemptToGlobs(exempt).some((g) => picomatch(g, { dot: true })(image));
    expect(matches(['*'], 'nginx')).toBe(true);
    expect(matches(['*'], 'registry.example.com:5000/team/app:1.0')).toBe(true);
    expect(matches(['safe-images.com/*'], 'safe-images.com/nginx')).toBe(true);
    expect(matches(['safe-images.com/*'], 'safe-images.com/team/nginx:1.2')).toBe(true);
    expect(matches(['safe-images.com/*'], 'unsafe-images.com/nginx')).toBe(false);
    expect(matches(['specialprogram'], 'specialprogram')).toBe(true);
    expect(matches(['specialprogram'], 'specialprogram:1')).toBe(false);
    expect(matches(['openpolicyagent/opa-exp:latest'], 'openpolicyagent/opa-exp:latest')).toBe(true);
    expect(matches(['openpolicyagent/opa-exp:latest'], 'openpolicyagent/opa-exp2:latest')).toBe(false);
    expect(matches(['repo@sha256:ab*'], 'repo@sha256:abcd')).toBe(true);
  });
});
