// require-signed-images parameters: the JSON schema and defaults of its authorities, image rules, noMatch, onError and
// trustedRoot (the types, which the verifier checks against, are src/signatures'), and the containers whose image a
// rule matches. The attestation policies share them.
import type { ContainerSite, PodSite } from '../../src/engine/types.js';
import { matchRule, type SignedImagesParams } from '../../src/signatures/params.js';

export type { AuthoritySpec, ImageRule, KeylessIdentity, SignedImagesParams } from '../../src/signatures/params.js';

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

// Containers whose image needs a looked-up fact: those a rule matches (noMatch is decided without one).
export function ruleSites(pod: PodSite, params: SignedImagesParams): ContainerSite[] {
  if (params.images.length === 0) return [];
  return pod.containers.filter((site) => matchRule(params, site.container.image) !== undefined);
}
