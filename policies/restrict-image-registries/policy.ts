// restrict-image-registries
// Rule: "Images come only from trusted registries and repositories." spec.containers[*], spec.initContainers[*],
// spec.ephemeralContainers[*].image: the normalized registry/repository (docker.io/library/nginx for "nginx")
// matches one of the `allowed` globs (`*` within one path segment, `**` across segments).
import { matchesAny } from '../../src/engine/globs.js';
import type { CheckInput, ContainerSite, Finding, Policy } from '../../src/engine/types.js';
import { ImageReferenceError, referenceOf } from '../../src/images/reference.js';
import type { CelGlobParams } from '../../src/failsafe/cel-rules.js';
import { NAME_LIST } from '../common.js';
import { IMAGE_REPOSITORY, IMAGE_VALID } from '../image-cel.js';

export interface RegistriesParams {
  /** registry/repository globs, e.g. "registry.example.com/**", "docker.io/library/*" */
  readonly allowed: readonly string[];
}

// Checks a container's image repository against the allowed globs.
function checkContainer(site: ContainerSite, { params }: CheckInput<RegistriesParams>): Finding | undefined {
  const image = site.container.image;
  const ref = referenceOf(image);
  if (ref instanceof ImageReferenceError) {
    return { container: site, problem: `image "${image}" is not a valid reference: ${ref.message}`, fix: 'use registry/repository:tag or registry/repository@sha256:<digest>' };
  }
  const repository = ref.name;
  if (matchesAny(params.allowed, repository)) return undefined;
  const shown = params.allowed.length ? params.allowed.join(', ') : 'none configured';
  return {
    container: site,
    problem: `image "${image}" comes from ${repository}, which no allowed pattern matches (allowed: ${shown})`,
    fix: 'use an image from an allowed registry (mirror it there), or add its repository to policies.restrict-image-registries.allowed',
  };
}

// The rule in CEL, for the fail-safe ValidatingAdmissionPolicy: the normalized registry/repository read from the
// image string with the reference grammar's RE2 patterns, matched against the allowed globs as RE2 patterns
// (params.allowedPatterns, translated when the fail-safe is rendered).
const CEL = {
  containerValidations: [
    {
      expression: IMAGE_VALID,
      messageExpression: `'image "' + container.image + '" is not a valid reference'`,
      fix: 'use registry/repository:tag or registry/repository@sha256:<digest>',
    },
    {
      expression: `!${IMAGE_VALID} || params.allowedPatterns.exists(p, (${IMAGE_REPOSITORY}).matches(p))`,
      messageExpression: `'image "' + container.image + '" comes from ' + ${IMAGE_REPOSITORY} + ', which no allowed pattern matches (allowed: ' + (size(params.allowed) > 0 ? params.allowed.join(', ') : 'none configured') + ')'`,
      fix: 'use an image from an allowed registry (mirror it there), or add its repository to policies.restrict-image-registries.allowed',
    },
  ],
};

// At config load: an enabled policy needs at least one pattern.
function validateParams(params: RegistriesParams): string[] {
  return params.allowed.length === 0 ? ['restrict-image-registries: expected at least one pattern in allowed, got none'] : [];
}

export const restrictImageRegistries: Policy<RegistriesParams> & CelGlobParams = {
  id: 'restrict-image-registries',
  title: 'Trusted registries only',
  description: 'Every image comes from a registry/repository that matches one of the allowed globs.',
  severity: 'high',
  category: 'Supply Chain',
  defaultAction: 'off',
  facts: [],
  appliesToWindows: true,
  paramsSchema: {
    allowed: NAME_LIST,
  },
  defaults: { allowed: [] },
  validateParams,
  checkContainer,
  cel: CEL,
  celGlobParams: ['allowed'],
};
