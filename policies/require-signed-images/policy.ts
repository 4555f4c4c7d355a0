// require-signed-images
// Rule: "Every image carries a valid signature from a trusted authority." Verification is gathered by
// the engine as a signature fact (src/signatures); this check turns the fact into findings.
// The first image rule whose glob matches registry/repository applies; images no rule matches follow noMatch.
import type { CheckInput, ContainerSite, Finding, PodSite, Policy } from '../../src/engine/types.js';
import { SIGNED_IMAGES_DEFAULTS, SIGNED_IMAGES_PARAMS_SCHEMA, matchRule, ruleSites, ruleSubject, type SignedImagesParams } from '../../src/signatures/params.js';
import { signatureParamsProblems } from '../../src/signatures/validate.js';

export type { SignedImagesParams } from '../../src/signatures/params.js';

const SIGN_FIX = 'sign the image digest with a trusted key or identity (cosign sign), or add its signer as an authority';

// Checks that a container's image has a verified signature from the authorities of its rule.
function checkContainer(site: ContainerSite, { params, facts }: CheckInput<SignedImagesParams>): Finding[] {
  const image = site.container.image;
  if (params.images.length === 0) {
    return [{ container: site, problem: `cannot verify the signature of "${image}": no signature authorities are configured`, fix: 'configure policies.require-signed-images.authorities and images, or set its action: off' }];
  }
  if (ruleSubject(image) === undefined) {
    return [{ container: site, problem: `cannot verify the signature of "${image}": not a valid image reference`, fix: 'use an image reference of the form registry/repository[:tag]@sha256:<digest>' }];
  }
  if (!matchRule(params, image)) {
    if (params.noMatch === 'allow') return [];
    return [{ container: site, problem: `"${image}" matches no image pattern with signature authorities (noMatch: deny)`, fix: 'add an images rule for it in policies.require-signed-images, or set noMatch: allow' }];
  }
  const sig = facts.signature(image);
  switch (sig.status) {
    case 'verified':
      if (sig.verifiedAtTag === undefined) return [];
      return [{
        container: site,
        advisory: true,
        problem: `signature verified at the digest tag "${sig.verifiedAtTag}" names now, but tags move`,
        fix: 'pin the image by digest (disallow-latest-tag requireDigest: true)',
      }];
    case 'error':
      if (params.onError === 'allow') return [];
      return [{ container: site, problem: sig.message, fix: 'retry when the registry answers, or set policies.require-signed-images.onError: allow' }];
    case 'unavailable':
      return [{ container: site, problem: `cannot verify the signature of "${image}": ${sig.message}`, fix: 'enable registry look-ups (registry.enabled: true), or set policies.require-signed-images.action: off' }];
    default:
      return [{ container: site, problem: sig.message, fix: SIGN_FIX }];
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
