// Parameters of require-signed-images: authorities, image rules, noMatch/onError; schema, defaults, rule matching.

import { globMatcher } from '../engine/globs.js';
import type { ContainerSite, PodSite } from '../engine/types.js';
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

export const SIGNED_IMAGES_DEFAULTS: SignedImagesParams = {
  authorities: {},
  images: [],
  noMatch: 'deny',
  onError: 'deny',
  trustedRoot: '',
};

const AUTHORITY_NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$';

export const SIGNED_IMAGES_PARAMS_SCHEMA = {
  authorities: {
    type: 'object',
    propertyNames: { pattern: AUTHORITY_NAME },
    additionalProperties: {
      type: 'object',
      additionalProperties: false,
      properties: {
        key: { type: 'string', minLength: 1, maxLength: 16384 },
        keyFile: { type: 'string', minLength: 1 },
        keyless: {
          type: 'object',
          additionalProperties: false,
          required: ['issuer'],
          properties: {
            issuer: { type: 'string', minLength: 1 },
            subject: { type: 'string', minLength: 1 },
            subjectRegExp: { type: 'string', minLength: 1 },
          },
          oneOf: [{ required: ['subject'] }, { required: ['subjectRegExp'] }],
        },
        ignoreTlog: { type: 'boolean' },
        trustedRoot: { type: 'string', minLength: 1 },
      },
      oneOf: [{ required: ['key'] }, { required: ['keyFile'] }, { required: ['keyless'] }],
    },
  },
  images: {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['pattern', 'authorities'],
      properties: {
        pattern: { type: 'string', minLength: 1 },
        authorities: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', pattern: AUTHORITY_NAME } },
        count: { type: 'integer', minimum: 1 },
        matchReference: { type: 'boolean' },
      },
    },
  },
  noMatch: { enum: ['deny', 'allow'] },
  onError: { enum: ['deny', 'allow'] },
  trustedRoot: { type: 'string' },
} as const;


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

// Containers whose image needs a looked-up fact: those a rule matches (noMatch is decided without one).
export function ruleSites(pod: PodSite, params: SignedImagesParams): ContainerSite[] {
  if (params.images.length === 0) return [];
  return pod.containers.filter((site) => matchRule(params, site.container.image) !== undefined);
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
