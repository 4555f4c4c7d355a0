// require-signed-images
// Rule: "Every image carries a valid signature from a trusted authority." Verification is gathered by
// the engine as a signature fact; this check turns a missing or failed verification into a finding.
import type { CheckInput, Finding, Policy } from '../../src/engine/types.js';

export type SignedImagesParams = Record<string, never>;

// Checks that every container's image has a verified signature.
function check({ pod, facts }: CheckInput<SignedImagesParams>): Finding[] {
  return pod.containers.flatMap((site) => {
    const sig = facts.signature(site.container.image);
    if (sig.status === 'verified') return [];
    if (sig.status === 'unavailable') {
      return [{ container: site, problem: `cannot verify the signature of "${site.container.image}": no signature authorities are configured`, fix: 'configure signature authorities, or set policies.require-signed-images.action: off' }];
    }
    return [{ container: site, problem: sig.message, fix: 'sign the image with a trusted key (cosign sign) or add its signer as an authority' }];
  });
}

export const requireSignedImages: Policy<SignedImagesParams> = {
  id: 'require-signed-images',
  title: 'Signed images only',
  description: 'Every image has a cosign/Sigstore signature from a configured authority.',
  defaultAction: 'off',
  facts: ['signature'],
  appliesToWindows: true,
  paramsSchema: {},
  defaults: {},
  check,
};
