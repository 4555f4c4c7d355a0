// disallow-latest-tag
// Rule: "Every image is pinned: it names a tag other than a mutable one (default: latest), or a digest."
// A reference with no tag means "latest". A digest is immutable and satisfies the rule whatever the tag.
// With requireDigest, every image must carry a digest.
import type { CheckInput, ContainerSite, Finding, Policy } from '../../src/engine/types.js';
import { ImageReferenceError, referenceOf } from '../../src/images/reference.js';
import { NAME_LIST } from '../common.js';
import { IMAGE_HAS_DIGEST, IMAGE_TAG_PART, IMAGE_VALID } from '../image-cel.js';

export interface LatestTagParams {
  readonly disallowedTags: readonly string[];
  readonly requireDigest: boolean;
}

const PIN_FIX = 'pin a version tag or a digest';

// Checks one container's image reference against the tag rules.
function checkImage(site: ContainerSite, params: LatestTagParams): Finding | undefined {
  const image = site.container.image;
  const ref = referenceOf(image);
  if (ref instanceof ImageReferenceError) {
    return { container: site, problem: `image "${image}" is not a valid reference: ${ref.message}`, fix: 'use registry/repository:tag or registry/repository@sha256:<digest>' };
  }
  if (ref.digest !== undefined && !params.requireDigest) return undefined;
  if (ref.digest === undefined && ref.tag !== undefined && !params.requireDigest && !params.disallowedTags.includes(ref.tag)) return undefined;
  const repo = image.split('@')[0] ?? image;
  const name = ref.tag === undefined ? repo : repo.slice(0, -(ref.tag.length + 1));
  if (params.requireDigest && ref.digest === undefined) {
    return { container: site, problem: `image "${image}" is not pinned by digest`, fix: `use ${name}@sha256:<digest> (tags can move)` };
  }
  if (ref.digest !== undefined) return undefined;
  if (ref.tag === undefined) {
    return { container: site, problem: `image "${image}" has no tag, which means "latest"`, fix: `${PIN_FIX}, e.g. ${name}:<version> or ${name}@sha256:<digest>` };
  }
  if (params.disallowedTags.includes(ref.tag)) {
    return { container: site, problem: `image "${image}" uses the mutable tag "${ref.tag}"`, fix: `${PIN_FIX}, e.g. ${name}:<version> or ${name}@sha256:<digest>` };
  }
  return undefined;
}

// Whether pinning would hide the image from this check: no tag or a disallowed tag (a digest would then pass it).
function hidesFromPinning(image: string, params: LatestTagParams): boolean {
  const ref = referenceOf(image);
  return !(ref instanceof ImageReferenceError) && ref.digest === undefined && (ref.tag === undefined || params.disallowedTags.includes(ref.tag));
}

// Checks a container's image for a missing or disallowed tag.
function checkContainer(site: ContainerSite, { params }: CheckInput<LatestTagParams>): Finding | undefined {
  return checkImage(site, params);
}

// The rule in CEL, for the fail-safe ValidatingAdmissionPolicy: the image string read with the reference grammar's
// RE2 patterns (a reference that does not parse, then requireDigest, then the tag).
const CEL = {
  containerValidations: [
    {
      expression: IMAGE_VALID,
      messageExpression: `'image "' + container.image + '" is not a valid reference'`,
      fix: 'use registry/repository:tag or registry/repository@sha256:<digest>',
    },
    {
      expression: `!${IMAGE_VALID} || !params.requireDigest || ${IMAGE_HAS_DIGEST}`,
      messageExpression: `'image "' + container.image + '" is not pinned by digest'`,
      fix: 'use repository@sha256:<digest> (tags can move)',
    },
    {
      expression: `!${IMAGE_VALID} || params.requireDigest || ${IMAGE_HAS_DIGEST} || (${IMAGE_TAG_PART} != '' && !params.disallowedTags.exists(t, ':' + t == ${IMAGE_TAG_PART}))`,
      messageExpression: `${IMAGE_TAG_PART} == '' ? 'image "' + container.image + '" has no tag, which means "latest"' : 'image "' + container.image + '" uses the mutable tag "' + ${IMAGE_TAG_PART}.substring(1) + '"'`,
      fix: `${PIN_FIX}, e.g. repository:<version> or repository@sha256:<digest>`,
    },
  ],
};

export const disallowLatestTag: Policy<LatestTagParams> = {
  id: 'disallow-latest-tag',
  title: 'No mutable image tags',
  description: 'Every image names a version tag (not latest, not missing) or a digest; optionally a digest is required.',
  severity: 'medium',
  category: 'Supply Chain',
  defaultAction: 'deny',
  facts: [],
  appliesToWindows: true,
  paramsSchema: {
    disallowedTags: NAME_LIST,
    requireDigest: { type: 'boolean' },
  },
  defaults: { disallowedTags: ['latest'], requireDigest: false },
  hidesFromPinning,
  checkContainer,
  cel: CEL,
};
