// limit-image-size
// Rule: "Images stay small: the compressed size of the image for the cluster's platform (the sum of its
// manifest's layer sizes) is within the budget (default 1024 MiB)." Read from the registry as an image fact for
// spec.containers[*], spec.initContainers[*], spec.ephemeralContainers[*].image; without facts, onError decides.
import type { CheckInput, ContainerSite, Finding, Policy } from '../../src/engine/types.js';

export interface ImageSizeParams {
  /** the budget, in MiB of compressed layers */
  readonly maxMiB: number;
  /** when the size cannot be read from the registry: allow, or deny */
  readonly onError: 'allow' | 'deny';
}

const MIB = 1024 * 1024;
const size = (bytes: number): string => (bytes >= 1024 * MIB ? `${(bytes / (1024 * MIB)).toFixed(2)} GiB` : `${(bytes / MIB).toFixed(1)} MiB`);

// Checks the compressed size of a container's image against the budget.
function checkContainer(site: ContainerSite, { params, facts }: CheckInput<ImageSizeParams>): Finding | undefined {
  const image = site.container.image;
  const fact = facts.image(image);
  if (fact.status !== 'ok' || fact.compressedSize === undefined) {
    if (params.onError === 'allow') return undefined;
    const why = fact.status === 'error' ? fact.message : 'image facts are not available';
    return { container: site, problem: `cannot read the size of "${image}": ${why}`, fix: 'enable registry look-ups (registry.enabled: true), or set policies.limit-image-size.onError: allow' };
  }
  if (fact.compressedSize <= params.maxMiB * MIB) return undefined;
  return {
    container: site,
    problem: `image "${image}" is ${size(fact.compressedSize)} compressed (${fact.platform}), over the ${params.maxMiB} MiB budget`,
    fix: `shrink it (a slim or distroless base, a multi-stage build), or raise policies.limit-image-size.maxMiB`,
  };
}

export const limitImageSize: Policy<ImageSizeParams> = {
  id: 'limit-image-size',
  title: 'Image size budget',
  description: "Every image's compressed size for the cluster's platform is within the budget (default 1024 MiB).",
  severity: 'low',
  category: 'Best Practices',
  defaultAction: 'off',
  facts: ['imageConfig'],
  appliesToWindows: true,
  paramsSchema: {
    maxMiB: { type: 'integer', minimum: 1 },
    onError: { enum: ['allow', 'deny'] },
  },
  defaults: { maxMiB: 1024, onError: 'allow' },
  checkContainer,
};
