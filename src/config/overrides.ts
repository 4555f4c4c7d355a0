// Command-line overrides of the config (`--set ID.PARAM=VALUE`, `--policy ID=ACTION`), applied to the YAML before
// validation, so they are checked exactly like the same keys in the config file.
import { parse, parseDocument } from 'yaml';
import { ConfigError } from './load.js';
import { CONFIG_KEYS } from './schema.js';
import { POLICY_ID_PATTERN } from '../custom/schema.js';

export interface ConfigOverride {
  /** the key path in the PortcullisConfig document, e.g. ['policies', 'disallow-latest-tag', 'requireDigest'] */
  readonly path: readonly string[];
  readonly value: unknown;
  /** the flag as given, for messages */
  readonly flag: string;
}

const ACTIONS = ['deny', 'warn', 'audit', 'off'];

const ID = new RegExp(POLICY_ID_PATTERN);
const isConfigKey = (key: string): boolean => (CONFIG_KEYS as readonly string[]).includes(key);

// `ID.KEY=VALUE` (a built-in or custom policy's action, exclude.images or parameter) or `KEY.KEY=VALUE` (mode,
// exclude.namespaces, registry.enabled, ...); VALUE is YAML: `true`, `3`, `[NET_BIND_SERVICE, CHOWN]`, `deny`.
// Policy ids are checked when the config is loaded (custom ids are only known then).
export function parseSet(flag: string): ConfigOverride {
  const eq = flag.indexOf('=');
  const keys = (eq === -1 ? '' : flag.slice(0, eq)).split('.');
  if (eq === -1 || keys.some((k) => k === '')) {
    throw new ConfigError('--set', [{ path: flag, reason: 'expected KEY=VALUE, e.g. disallow-latest-tag.requireDigest=true' }]);
  }
  const path = keys.length > 1 && !isConfigKey(keys[0]!) && ID.test(keys[0]!) ? ['policies', ...keys] : keys;
  return { path, value: parse(flag.slice(eq + 1)) as unknown, flag: `--set ${flag}` };
}

// `ID=ACTION`: a built-in or custom policy's action (deny, warn, audit, off).
export function parsePolicyAction(flag: string): ConfigOverride {
  const [id = '', action = ''] = flag.split('=', 2);
  if (!ID.test(id) || !ACTIONS.includes(action)) {
    throw new ConfigError('--policy', [{ path: flag, reason: `expected ID=ACTION with ID a policy id and ACTION one of ${ACTIONS.join(', ')}, got "${flag}"` }]);
  }
  return { path: ['policies', id, 'action'], value: action, flag: `--policy ${flag}` };
}

// The config text with the overrides set; text that does not parse is returned as it is (its errors are reported).
export function applyOverrides(text: string, overrides: readonly ConfigOverride[]): string {
  if (overrides.length === 0) return text;
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return text;
  if (doc.contents === null) return applyOverrides('{}\n', overrides);
  for (const o of overrides) doc.setIn(o.path, doc.createNode(o.value));
  return doc.toString();
}

// A config's name in messages, with the overrides applied to it: `portcullis.yaml with --set a.b=c`.
export function sourceWith(source: string, overrides: readonly ConfigOverride[]): string {
  return overrides.length > 0 ? `${source} with ${overrides.map((o) => o.flag).join(' ')}` : source;
}
