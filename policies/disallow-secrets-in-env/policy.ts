// disallow-secrets-in-env
// Rule: "No credential is written into a pod spec's env or baked into an image's config." spec.containers[*],
// spec.initContainers[*], spec.ephemeralContainers[*].env[*].value (literal values; valueFrom is fine) and, with
// image facts, the image config's Env: a value in a well-known token format (private keys, AWS, GitHub, GitLab,
// Slack, Google, Stripe, npm tokens, JWTs, URLs with a password), or a high-entropy value under a credential name
// (*_PASSWORD, *_TOKEN, *_SECRET, *_KEY, ...). Messages name the variable, never the value.
import type { CheckInput, ContainerSite, Finding, Policy } from '../../src/engine/types.js';
import { secretKind } from './detect.js';
import { NAME_LIST } from '../common.js';
import { BoundedMemo } from '../../src/memo.js';

export interface SecretsInEnvParams {
  /** also inspect the image config's Env (needs image facts from the registry) */
  readonly inspectImageEnv: boolean;
  /** variable names never reported (false positives) */
  readonly ignoreNames: readonly string[];
}

const SPEC_FIX = 'move it to a Secret and reference it with env[].valueFrom.secretKeyRef, then rotate it';
const IMAGE_FIX = 'rebuild the image without it (anyone who can pull the image can read its Env), rotate it, and pass it at run time from a Secret';

type EnvSecret = { readonly name: string; readonly kind: string };
const NONE: readonly EnvSecret[] = [];
/** what an image Env (a cached fact: the same array for every review of that image) holds, for one ignoreNames list;
 * 1024 Envs at most (a cluster runs far fewer distinct images at once) */
const scanned = new BoundedMemo<readonly string[], { readonly ignored: readonly string[]; readonly found: readonly EnvSecret[] }>(1024);

// The variables of an image config's Env that look like credentials (scanned once per Env and ignore list).
function imageEnvSecrets(env: readonly string[], ignoreNames: readonly string[]): readonly EnvSecret[] {
  const known = scanned.get(env);
  if (known?.ignored === ignoreNames) return known.found;
  const hits: EnvSecret[] = [];
  for (const entry of env) {
    const eq = entry.indexOf('=');
    const name = eq === -1 ? entry : entry.slice(0, eq);
    if (eq === -1 || ignoreNames.includes(name)) continue;
    const kind = secretKind(name, entry.slice(eq + 1));
    if (kind) hits.push({ name, kind });
  }
  return scanned.set(env, { ignored: ignoreNames, found: hits.length > 0 ? hits : NONE }).found;
}

// Checks literal env values in the spec and, when gathered, the image config's Env.
function checkContainer(site: ContainerSite, { params, facts }: CheckInput<SecretsInEnvParams>): Finding[] {
  const out: Finding[] = [];
  if (site.container.env.length === 0 && !params.inspectImageEnv) return out;
  for (const env of site.container.env) {
    if (env.value === undefined || params.ignoreNames.includes(env.name)) continue;
    const kind = secretKind(env.name, env.value);
    if (kind) out.push({ container: site, problem: `env ${env.name} holds a literal value that looks like ${kind}`, fix: SPEC_FIX });
  }
  if (!params.inspectImageEnv) return out;
  const fact = facts.image(site.container.image);
  if (fact.status !== 'ok' || !fact.env) return out;
  for (const { name, kind } of imageEnvSecrets(fact.env, params.ignoreNames)) {
    out.push({ container: site, problem: `image ${fact.digest} sets Env ${name} to what looks like ${kind}`, fix: IMAGE_FIX });
  }
  return out;
}

export const disallowSecretsInEnv: Policy<SecretsInEnvParams> = {
  id: 'disallow-secrets-in-env',
  title: 'No credentials in env',
  description: "No literal env value in the spec or in the image config's Env looks like a credential.",
  severity: 'high',
  category: 'Supply Chain',
  defaultAction: 'off',
  facts: ['imageConfig'],
  appliesToWindows: true,
  paramsSchema: {
    inspectImageEnv: { type: 'boolean' },
    ignoreNames: NAME_LIST,
  },
  defaults: { inspectImageEnv: true, ignoreNames: [] },
  needsFacts: (pod, params) => (params.inspectImageEnv ? pod.containers : []),
  checkContainer,
};
