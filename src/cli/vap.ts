// portcullis vap: renders the fail-safe ValidatingAdmissionPolicies and bindings for a config.
import { stringify } from 'yaml';
import { POLICIES } from '../../policies/index.js';
import { ConfigError } from '../config/load.js';
import { loadConfigFile } from '../config/store.js';
import { parsePolicyAction, parseSet } from '../config/overrides.js';
import { renderFailSafe } from '../failsafe/vap.js';
import type { FailSafe } from '../failsafe/vap.js';
import { parseCommand } from './flags.js';
import { programName } from './program.js';

const USAGE = `usage: ${programName()} vap [--config FILE] [--set ID.KEY=VALUE]... [--policy ID=ACTION]... [-o yaml|json] [--strict]
  prints a ValidatingAdmissionPolicy and binding for every enabled policy whose rules are in CEL (built-in and
  custom), for the API server to enforce while the webhook is unavailable; lists the enabled policies that cannot
  be expressed in CEL (on stderr and in the YAML header)
  --strict              exit 1 when an enabled policy cannot be expressed in CEL
exit status: 0 rendered, 1 --strict and some policy is not rendered, 2 bad config or flags`;

const FLAGS = {
  config: { type: 'string' },
  set: { type: 'string', multiple: true },
  policy: { type: 'string', multiple: true },
  output: { type: 'string', short: 'o', default: 'yaml' },
  strict: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h' },
} as const;

// The YAML stream: a header naming what is not rendered, then one document per object.
export function failSafeYaml(rendered: FailSafe): string {
  const header = [
    '# portcullis fail-safe: ValidatingAdmissionPolicies enforced by the API server while the webhook is unavailable',
    ...(rendered.inexpressible.length > 0 ? ['# not expressible in CEL (enforced by the webhook only):', ...rendered.inexpressible.map((i) => `#   ${i.policy}: ${i.reason}`)] : []),
  ];
  return `${header.join('\n')}\n${rendered.documents.map((d) => `---\n${stringify(d, { lineWidth: 0 })}`).join('')}`;
}

export async function runVap(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, FLAGS, USAGE);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (values.output !== 'yaml' && values.output !== 'json') {
    process.stderr.write(`portcullis: --output: expected yaml|json, got "${values.output}"\n${USAGE}\n`);
    return 2;
  }
  let rendered: FailSafe;
  try {
    const overrides = [...(values.set ?? []).map(parseSet), ...(values.policy ?? []).map(parsePolicyAction)];
    rendered = renderFailSafe(loadConfigFile(values.config, POLICIES, overrides));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) process.stderr.write(`portcullis: config ${values.config ?? '(built-in)'}: ${p.path}: ${p.reason}\n`);
    return 2;
  }
  for (const i of rendered.inexpressible) process.stderr.write(`portcullis: not rendered: ${i.policy}: ${i.reason}\n`);
  const list = { apiVersion: 'v1', kind: 'List', items: rendered.documents, inexpressible: rendered.inexpressible };
  process.stdout.write(values.output === 'json' ? `${JSON.stringify(list, null, 2)}\n` : failSafeYaml(rendered));
  return values.strict && rendered.inexpressible.length > 0 ? 1 : 0;
}
