// require-read-only-root-filesystem
// Rule: "Containers must run with a read-only root filesystem." spec.containers[*],
// spec.initContainers[*], spec.ephemeralContainers[*]: securityContext.readOnlyRootFilesystem must be true.
import type { ContainerSite, Finding, Policy } from '../../src/engine/types.js';

export type ReadOnlyRootParams = Record<string, never>;

// Checks that a container sets readOnlyRootFilesystem: true.
function checkContainer(site: ContainerSite): Finding | undefined {
  const value = site.container.securityContext?.readOnlyRootFilesystem;
  if (value === true) return undefined;
  return {
    container: site,
    problem: `root filesystem is writable (readOnlyRootFilesystem: ${value === undefined ? 'unset' : String(value)})`,
    fix: 'set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it writes',
  };
}

// The rule in CEL, for the fail-safe ValidatingAdmissionPolicy.
const CEL = {
  containerValidations: [
    {
      expression: 'has(container.securityContext) && has(container.securityContext.readOnlyRootFilesystem) && container.securityContext.readOnlyRootFilesystem == true',
      messageExpression: "'root filesystem is writable (readOnlyRootFilesystem: ' + (has(container.securityContext) && has(container.securityContext.readOnlyRootFilesystem) ? string(container.securityContext.readOnlyRootFilesystem) : 'unset') + ')'",
      fix: 'set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it writes',
    },
  ],
};

export const requireReadOnlyRootFilesystem: Policy<ReadOnlyRootParams> = {
  id: 'require-read-only-root-filesystem',
  title: 'Read-only root filesystem',
  description: 'Every container sets securityContext.readOnlyRootFilesystem: true.',
  severity: 'medium',
  category: 'Pod Security',
  defaultAction: 'deny',
  facts: [],
  appliesToWindows: false,
  paramsSchema: {},
  defaults: {},
  checkContainer,
  cel: CEL,
};
