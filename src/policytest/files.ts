// Policy test files: resources and the verdict expected from each policy (pass, fail with a message fragment,
// skip), with the config they are checked against.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseAllDocuments } from 'yaml';
import { PortcullisError } from '../errors.js';

export type Verdict = 'pass' | 'fail' | 'skip';

export interface Expectation {
  readonly verdict: Verdict;
  /** a fragment of the violation's message (fail) */
  readonly message?: string;
}

export interface TestCase {
  readonly name: string;
  readonly resource: Record<string, unknown>;
  readonly oldResource?: Record<string, unknown>;
  readonly operation: 'CREATE' | 'UPDATE';
  readonly namespace: string;
  /** policy settings for this case, over the file's */
  readonly policies: Readonly<Record<string, Record<string, unknown>>>;
  readonly expect: Readonly<Record<string, Expectation>>;
}

export interface TestFile {
  readonly path: string;
  /** the config file, absolute (undefined: the built-in config) */
  readonly config?: string;
  readonly policies: Readonly<Record<string, Record<string, unknown>>>;
  readonly cases: readonly TestCase[];
}

export class PolicyTestError extends PortcullisError<'POLICY_TEST_INVALID'> {
  constructor(message: string) {
    super('POLICY_TEST_INVALID', message);
  }
}

const VERDICT = { enum: ['pass', 'fail', 'skip'] };
const TEXT = { type: 'string', minLength: 1 };
/** policy settings by id, over the config's */
const SETTINGS = { type: 'object', additionalProperties: { type: 'object' } };
const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'cases'],
  properties: {
    apiVersion: { const: 'portcullis.dev/v1alpha1' },
    kind: { const: 'PolicyTest' },
    config: TEXT,
    policies: SETTINGS,
    cases: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'resource', 'expect'],
        properties: {
          name: TEXT,
          resource: { type: 'object', required: ['apiVersion', 'kind'] },
          oldResource: { type: 'object' },
          operation: { enum: ['CREATE', 'UPDATE'] },
          namespace: TEXT,
          policies: SETTINGS,
          expect: {
            type: 'object',
            minProperties: 1,
            additionalProperties: {
              oneOf: [VERDICT, { type: 'object', additionalProperties: false, required: ['verdict'], properties: { verdict: VERDICT, message: TEXT } }],
            },
          },
        },
      },
    },
  },
} as const;

const validate = new Ajv2020({ allErrors: true, strict: false }).compile(SCHEMA);

type Raw = { config?: string; policies?: Record<string, Record<string, unknown>>; cases: Array<Record<string, unknown>> };

// The test files under these paths (a file, or every .yaml/.yml in a directory tree), sorted.
export function testFilePaths(paths: readonly string[]): string[] {
  return paths.flatMap((p) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) throw new PolicyTestError(`${p}: expected a file or directory, got nothing`);
    if (st.isFile()) return [p];
    return readdirSync(p, { recursive: true, encoding: 'utf8' })
      .filter((n) => /\.ya?ml$/.test(n))
      .sort()
      .map((n) => join(p, n));
  });
}

// Reads the PolicyTest documents of a file (other documents, such as configs and policies, are not tests).
export function readTestFile(path: string): TestFile[] {
  return parseAllDocuments(readFileSync(path, 'utf8'), { merge: true }).flatMap((doc, i): TestFile[] => {
    if (doc.errors.length > 0) throw new PolicyTestError(`${path}: document ${i}: ${doc.errors[0]!.message.split('\n')[0]}`);
    const value = doc.toJS() as { kind?: unknown } | null;
    if (!value || value.kind !== 'PolicyTest') return [];
    if (!validate(value)) throw new PolicyTestError(`${path}: document ${i}: ${(validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`).join('; ')}`);
    const raw = value as unknown as Raw;
    return [
      {
        path,
        ...(raw.config ? { config: resolve(dirname(path), raw.config) } : {}),
        policies: raw.policies ?? {},
        cases: raw.cases.map((c) => ({
          name: c.name as string,
          resource: c.resource as Record<string, unknown>,
          ...(c.oldResource ? { oldResource: c.oldResource as Record<string, unknown> } : {}),
          operation: (c.operation as TestCase['operation'] | undefined) ?? 'CREATE',
          namespace: (c.namespace as string | undefined) ?? ((c.resource as { metadata?: { namespace?: string } }).metadata?.namespace ?? 'default'),
          policies: (c.policies as TestCase['policies'] | undefined) ?? {},
          expect: Object.fromEntries(Object.entries(c.expect as Record<string, unknown>).map(([id, e]) => [id, typeof e === 'string' ? { verdict: e as Verdict } : (e as Expectation)])),
        })),
      },
    ];
  });
}
