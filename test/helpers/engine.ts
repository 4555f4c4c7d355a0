// An engine with only chosen policies enabled (others off), for policy and conformance tests.
import { configFromObject } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { createEngine } from '../../src/engine/evaluate.js';
import type { Engine } from '../../src/engine/evaluate.js';
import type { FactGatherer } from '../../src/engine/facts.js';
import { POLICY_IDS } from '../../policies/index.js';

export function configWith(policies: Record<string, Record<string, unknown>>, extra: Record<string, unknown> = {}): Config {
  const all = Object.fromEntries(POLICY_IDS.map((id) => [id, { action: 'off', ...(policies[id] ?? {}) }]));
  return configFromObject({ apiVersion: 'portcullis.dev/v1alpha1', kind: 'PortcullisConfig', policies: all, ...extra });
}

/** An engine where only these policies run, with action deny unless given. */
export function engineWith(policies: Record<string, Record<string, unknown>>, opts: { facts?: FactGatherer; extra?: Record<string, unknown> } = {}): Engine {
  const withAction = Object.fromEntries(Object.entries(policies).map(([id, p]) => [id, { action: 'deny', ...p }]));
  const config = configWith(withAction, opts.extra);
  return createEngine({ config: () => config, ...(opts.facts ? { facts: opts.facts } : {}) });
}
