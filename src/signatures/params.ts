// The signature parameters the verifiers check against (authorities, image rules, noMatch/onError), the rule an image
// matches, and the problems the schema cannot see. The schema and defaults are require-signed-images' (its folder).

import { globMatcher } from '../engine/globs.js';
import { ImageReferenceError, referenceOf } from '../images/reference.js';

export interface KeylessIdentity {
  /** OIDC issuer the Fulcio certificate names (exact) */
  readonly issuer: string;
  /** certificate subject (SAN: email or URI), exact */
  readonly subject?: string;
  /** or a regular expression the whole subject must match */
  readonly subjectRegExp?: string;
}

/** One trusted signer: a public key, or a keyless (Fulcio) identity. */
export interface AuthoritySpec {
  /** PEM public key (ECDSA P-256/P-384, RSA, Ed25519) */
  readonly key?: string;
  /** or a file holding it */
  readonly keyFile?: string;
  /** a Fulcio certificate identity, checked against a Sigstore trusted root */
  readonly keyless?: KeylessIdentity;
  /** key authorities: do not require a transparency log entry (default false) */
  readonly ignoreTlog?: boolean;
  /** trusted_root.json for this authority; defaults to the policy's trustedRoot */
  readonly trustedRoot?: string;
}

/** Images (a glob on registry/repository) and the authorities that must have signed them. */
export interface ImageRule {
  readonly pattern: string;
  /** names from `authorities` */
  readonly authorities: readonly string[];
  /** how many of the listed authorities must have signed (default 1) */
  readonly count?: number;
  /** also require the signed payload to name this registry/repository (legacy cosign signatures) */
  readonly matchReference?: boolean;
}

export interface SignedImagesParams {
  readonly authorities: Readonly<Record<string, AuthoritySpec>>;
  /** first matching rule applies */
  readonly images: readonly ImageRule[];
  /** images no rule matches: deny (default) or allow */
  readonly noMatch: 'deny' | 'allow';
  /** registry errors and timeouts: deny (default) or allow */
  readonly onError: 'deny' | 'allow';
  /** default Sigstore trusted_root.json file for keyless authorities and transparency logs; '' = none */
  readonly trustedRoot: string;
}

// The name rules match: registry/repository, without tag or digest (docker.io/library/nginx for "nginx").
export function ruleSubject(image: string): string | undefined {
  const ref = referenceOf(image);
  return ref instanceof ImageReferenceError ? undefined : ref.name;
}

// The first rule whose glob matches the image's registry/repository, or undefined.
export function matchRule(params: SignedImagesParams, image: string): ImageRule | undefined {
  const subject = ruleSubject(image);
  if (subject === undefined) return undefined;
  return params.images.find((rule) => globMatcher(rule.pattern)(subject));
}

// Problems of a params object that the schema cannot see: unknown authority names, count too large, bad regexps.
export function paramsProblems(params: SignedImagesParams): string[] {
  const problems: string[] = [];
  params.images.forEach((rule, i) => {
    for (const name of rule.authorities) {
      if (!Object.hasOwn(params.authorities, name)) problems.push(`images[${i}].authorities: expected a name from authorities, got "${name}"`);
    }
    if (rule.count !== undefined && rule.count > rule.authorities.length) {
      problems.push(`images[${i}].count: expected at most ${rule.authorities.length} (the authorities listed), got ${rule.count}`);
    }
  });
  for (const [name, a] of Object.entries(params.authorities)) {
    if (a.keyless?.subjectRegExp !== undefined) {
      try {
        new RegExp(a.keyless.subjectRegExp);
      } catch {
        problems.push(`authorities.${name}.keyless.subjectRegExp: expected a regular expression, got ${JSON.stringify(a.keyless.subjectRegExp)}`);
      }
    }
    if (a.keyless && !a.trustedRoot && !params.trustedRoot) {
      problems.push(`authorities.${name}: expected a trustedRoot (on the authority or the policy) for a keyless authority, got none`);
    }
    if (!a.keyless && a.ignoreTlog !== true && !a.trustedRoot && !params.trustedRoot) {
      problems.push(`authorities.${name}: expected ignoreTlog: true or a trustedRoot with the transparency log keys, got neither`);
    }
  }
  return problems;
}
