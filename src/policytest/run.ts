// Runs policy test cases through the engine and compares each policy's verdict with the expected one.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseDocument } from 'yaml';
import { DEFAULT_CONFIG_YAML } from '../config/defaults.js';
import { configFromObject } from '../config/load.js';
import { applyOverrides, sourceWith } from '../config/overrides.js';
import type { ConfigOverride } from '../config/overrides.js';
import type { Config } from '../config/types.js';
import { createEngine } from '../engine/evaluate.js';
import type { Decision } from '../engine/decision.js';
import type { Policy } from '../engine/types.js';
import { groupOf } from '../workload/podspecs.js';
import { withCelCompiler } from '../custom/compiler.js';
import type { Expectation, TestCase, TestFile, Verdict } from './files.js';

export interface CaseResult {
  readonly file: string;
  readonly case: string;
  readonly policy: string;
  readonly expected: Expectation;
  readonly got: Verdict;
  /** the policy's messages for this resource */
  readonly messages: readonly string[];
  readonly ok: boolean;
}

type Raw = Record<string, unknown>;

// The config of a file's case: the file's config (or the built-in one) with the command line's overrides, then the
// file's and case's policy settings.
function configFor(file: TestFile, c: TestCase, catalog: readonly Policy[], cache: Map<string, Config>, overrides: readonly ConfigOverride[]): Config {
  const key = JSON.stringify([file.config, file.policies, c.policies]);
  let config = cache.get(key);
  if (!config) {
    const text = applyOverrides(file.config ? readFileSync(file.config, 'utf8') : DEFAULT_CONFIG_YAML, overrides);
    const doc = (parseDocument(text).toJS() ?? {}) as Raw;
    const policies = { ...((doc.policies as Raw | undefined) ?? {}) } as Record<string, Raw>;
    for (const [id, settings] of [...Object.entries(file.policies), ...Object.entries(c.policies)]) policies[id] = { ...(policies[id] ?? {}), ...settings };
    config = configFromObject({ ...doc, policies }, sourceWith(file.config ?? 'built-in config', overrides), catalog, file.config ? dirname(file.config) : undefined);
    cache.set(key, config);
  }
  return config;
}

// A policy's verdict on a resource: skip when it did not run (off, unknown, or nothing was evaluated).
export function verdictOf(decision: Decision, config: Config, policy: string): { verdict: Verdict; messages: string[] } {
  const settings = config.policies[policy];
  if (decision.skipped !== undefined || !settings || settings.action === 'off') return { verdict: 'skip', messages: [] };
  const messages = decision.violations.filter((v) => v.policy === policy).map((v) => v.message);
  return { verdict: messages.length > 0 ? 'fail' : 'pass', messages };
}

function matches(expected: Expectation, got: Verdict, messages: readonly string[]): boolean {
  return expected.verdict === got && (expected.message === undefined || messages.some((m) => m.includes(expected.message!)));
}

// Runs every case of the files (their configs with these `--set`/`--policy` overrides); one result per case and
// expected policy.
export async function runPolicyTests(files: readonly TestFile[], catalog: readonly Policy[], overrides: readonly ConfigOverride[] = []): Promise<CaseResult[]> {
  const cache = new Map<string, Config>();
  const results: CaseResult[] = [];
  for (const file of files) {
    for (const c of file.cases) {
      const config = await withCelCompiler(() => configFor(file, c, catalog, cache, overrides));
      const engine = createEngine({ config: () => config });
      const r = c.resource as { apiVersion: string; kind: string };
      const decision = await engine.evaluate(
        { group: groupOf(r.apiVersion), kind: r.kind, operation: c.operation, namespace: c.namespace, object: c.resource, ...(c.oldResource ? { oldObject: c.oldResource } : {}) },
        { deadline: Date.now() + 10_000 },
      );
      for (const [policy, expected] of Object.entries(c.expect)) {
        const { verdict, messages } = verdictOf(decision, config, policy);
        results.push({ file: file.path, case: c.name, policy, expected, got: verdict, messages, ok: matches(expected, verdict, messages) });
      }
    }
  }
  return results;
}
