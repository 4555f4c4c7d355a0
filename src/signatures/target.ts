// What every verification of an image (signature or attestation) settles before looking at the registry: the rule
// that applies, its compiled authorities, the digest to check (the one resolved for the review, else the resolver's),
// the call options and the name shown in messages. Also the deadline guard both verifiers use.

import { settleBy } from '../engine/deadline.js';
import type { CallOptions, RepoRef } from '../images/client.js';
import { RegistryError, toRegistryError } from '../images/errors.js';
import { ImageReferenceError, referenceOf, type ImageReference } from '../images/reference.js';
import type { ImageResolver } from '../images/resolver.js';
import type { Authority, CompiledParams } from './authority.js';
import { shortDigest } from './statement.js';
import { matchRule, ruleSubject, type ImageRule, type SignedImagesParams } from './params.js';
import type { VerifyOptions } from './verifier.js';

export interface Target {
  readonly ref: ImageReference;
  readonly repo: RepoRef;
  readonly call: CallOptions;
  readonly deadline: number;
  readonly digest: string;
  /** registry/repository[:tag]@sha256:ab12… */
  readonly display: string;
  readonly rule: ImageRule;
  readonly authorities: readonly Authority[];
}

/** How many distinct authorities must verify the target: the rule's count, at most the number of authorities. */
export function needOf(t: Target): number {
  return Math.min(t.rule.count ?? 1, t.authorities.length);
}

export type EarlyCode = 'CLOSED' | 'NOT_CONFIGURED' | 'NO_RULE' | 'NO_RULE_ALLOWED' | 'INVALID_REFERENCE' | 'CONFIG_INVALID' | 'REGISTRY_ERROR';

/** The answer when verification cannot or need not reach the registry. */
export interface Early {
  readonly status: 'verified' | 'unverified' | 'error' | 'unavailable';
  readonly code: EarlyCode;
  readonly message: string;
  /** the cause in its source's words (the configuration problem, the reference or registry error) */
  readonly reason?: string;
  /** the image as named in messages, when the answer is about a resolution */
  readonly image?: string;
}

export interface TargetDeps {
  readonly compiled: (params: SignedImagesParams) => CompiledParams;
  readonly resolver: ImageResolver;
  readonly timeoutMs: number;
  readonly closed: boolean;
}

const early = (status: Early['status'], code: EarlyCode, message: string, more: Pick<Early, 'reason' | 'image'> = {}): Early => ({ status, code, message, ...more });

// Settles with the promise, or rejects with REGISTRY_TIMEOUT when the deadline passes first.
export function withDeadline<T>(p: Promise<T>, deadline: number, registry: string): Promise<T> {
  return settleBy(p, deadline, () => Promise.reject(new RegistryError('REGISTRY_TIMEOUT', `${registry}: no answer before the deadline`, { registry })));
}

/** A target whose digest is not settled yet. */
type Unsettled = Omit<Target, 'digest' | 'display'>;

// The rule, authorities and call of one verification of `image`, or the early answer; `what` names the thing verified
// in messages.
function prepareTarget(image: string, params: SignedImagesParams, opts: VerifyOptions, deps: TargetDeps, what: 'signature' | 'attestation'): Unsettled | Early {
  if (deps.closed) return early('error', 'CLOSED', `${what} verifier is closed`);
  if (params.images.length === 0) return early('unavailable', 'NOT_CONFIGURED', `no ${what} authorities are configured`);
  if (ruleSubject(image) === undefined) return early('unverified', 'INVALID_REFERENCE', `"${image}" is not a valid image reference`);
  const rule = matchRule(params, image);
  if (!rule) {
    return params.noMatch === 'allow'
      ? early('verified', 'NO_RULE_ALLOWED', `"${image}" matches no image pattern with ${what} authorities; allowed by noMatch: allow`)
      : early('unverified', 'NO_RULE', `"${image}" matches no image pattern with ${what} authorities (noMatch: deny)`);
  }
  const compiled = deps.compiled(params);
  if (compiled.problems.length > 0) return early('unverified', 'CONFIG_INVALID', `cannot verify "${image}": the ${what} configuration is invalid: ${compiled.problems[0]}`, { reason: compiled.problems[0] as string });
  const ref: ImageReference | ImageReferenceError = referenceOf(image);
  if (ref instanceof ImageReferenceError) return early('unverified', 'INVALID_REFERENCE', `"${image}" is not a valid image reference: ${ref.message}`, { reason: ref.message });
  const authorities = rule.authorities.map((n) => compiled.authorities.get(n)).filter((a): a is Authority => a !== undefined);
  const deadline = Math.min(opts.deadline, Date.now() + deps.timeoutMs);
  const repo: RepoRef = { registry: ref.registry, repository: ref.repository };
  const call: CallOptions = { deadline, ...(opts.credentials ? { credentials: opts.credentials } : {}) };
  return { ref, repo, call, deadline, rule, authorities };
}

// The target at its digest, with the name messages show.
function settled(t: Unsettled, digest: string): Target {
  const display = `${t.ref.name}${t.ref.digest ? '' : `:${t.ref.tag ?? 'latest'}`}@${shortDigest(digest)}`;
  return { ...t, digest, display };
}

// Settles the target of one verification of `image`, or the early answer; `what` names the thing verified in messages.
export async function settleTarget(image: string, params: SignedImagesParams, opts: VerifyOptions, deps: TargetDeps, what: 'signature' | 'attestation'): Promise<Target | Early> {
  const t = prepareTarget(image, params, opts, deps, what);
  if (isEarly(t)) return t;
  const { ref, call, deadline } = t;
  let digest: string;
  try {
    digest = ref.digest ?? opts.digest ?? (await withDeadline(deps.resolver.digestOf(ref, call), deadline, ref.registry));
  } catch (err) {
    const e = toRegistryError(err, 'REGISTRY_UNREACHABLE', ref.registry);
    const name = `${ref.name}:${ref.tag ?? 'latest'}`;
    return early('error', 'REGISTRY_ERROR', `cannot resolve ${name} to a digest to check its ${what}: ${e.message}`, { reason: e.message, image: name });
  }
  return settled(t, digest);
}

// The target settleTarget would answer when its digest is known without asking the resolver (the reference's own,
// or the one resolved for the review), or the early answer; undefined when the digest would have to be resolved.
export function knownTarget(image: string, params: SignedImagesParams, opts: VerifyOptions, deps: TargetDeps, what: 'signature' | 'attestation'): Target | Early | undefined {
  const t = prepareTarget(image, params, opts, deps, what);
  if (isEarly(t)) return t;
  const digest = t.ref.digest ?? opts.digest;
  return digest === undefined ? undefined : settled(t, digest);
}

export function isEarly(t: Target | Unsettled | Early): t is Early {
  return 'code' in t;
}
