// require-signed-images
// Rule: "Every image carries a valid signature from a trusted authority." Verification is gathered by
// the engine as a signature fact (src/signatures); this check turns the fact's code into findings (messages.ts).
// The first image rule whose glob matches registry/repository applies; images no rule matches follow noMatch.
import type { CheckInput, ContainerSite, Finding, Policy, SignatureCode, SignatureFact } from '../../src/engine/types.js';
import { matchRule, ruleSubject } from '../../src/signatures/params.js';
import { signatureParamsProblems } from '../../src/signatures/validate.js';
import { FIX, problemOf } from './messages.js';
import { SIGNED_IMAGES_DEFAULTS, SIGNED_IMAGES_PARAMS_SCHEMA, ruleSites, type SignedImagesParams } from './params.js';

export type { SignedImagesParams } from './params.js';

/** the code of the warning for a signature verified through a tag (tags move) */
export const VERIFIED_AT_TAG = 'VERIFIED_AT_TAG';

// The finding for a code the fact (or the rule matching here) gives.
function finding(site: ContainerSite, code: SignatureCode, fact: SignatureFact = { status: 'unverified', code }): Finding {
  return { container: site, code, problem: problemOf(fact, site.container.image), fix: FIX[code] };
}

// Checks that a container's image has a verified signature from the authorities of its rule.
function checkContainer(site: ContainerSite, { params, facts }: CheckInput<SignedImagesParams>): Finding[] {
  const image = site.container.image;
  if (params.images.length === 0) return [finding(site, 'NOT_CONFIGURED')];
  if (ruleSubject(image) === undefined) return [finding(site, 'INVALID_REFERENCE')];
  if (!matchRule(params, image)) return params.noMatch === 'allow' ? [] : [finding(site, 'NO_RULE')];
  const sig = facts.signature(image);
  switch (sig.status) {
    case 'verified':
      if (sig.verifiedAtTag === undefined) return [];
      return [{
        container: site,
        advisory: true,
        code: VERIFIED_AT_TAG,
        problem: `signature verified at the digest tag "${sig.verifiedAtTag}" names now, but tags move`,
        fix: 'pin the image by digest (disallow-latest-tag requireDigest: true)',
      }];
    case 'error':
      return params.onError === 'allow' ? [] : [finding(site, sig.code, sig)];
    default:
      return [finding(site, sig.code, sig)];
  }
}

export const requireSignedImages: Policy<SignedImagesParams> = {
  id: 'require-signed-images',
  title: 'Signed images only',
  description: 'Every image has a cosign/Sigstore signature on its digest from the authorities configured for it.',
  severity: 'high',
  category: 'Supply Chain',
  defaultAction: 'off',
  facts: ['signature'],
  appliesToWindows: true,
  paramsSchema: SIGNED_IMAGES_PARAMS_SCHEMA,
  defaults: SIGNED_IMAGES_DEFAULTS,
  validateParams: signatureParamsProblems,
  needsFacts: ruleSites,
  checkContainer,
};
