// disallow-host-path
// Rule (Pod Security Standards baseline; PSA check hostPathVolumes): "HostPath volumes must be forbidden."
// Restricted field: spec.volumes[*].hostPath. Allowed values: undefined/null.
import type { CheckInput, Finding, Policy } from '../../src/engine/types.js';
import { BASELINE_CONTROL, NO_PARAMS } from '../common.js';

export type HostPathParams = Record<string, never>;

// Checks every volume for a hostPath source.
function check({ pod }: CheckInput<HostPathParams>): Finding[] {
  return pod.spec.volumes
    .filter((v) => v.source === 'hostPath')
    .map((v) => ({
      problem: `volume "${v.name}" mounts the host path ${JSON.stringify(v.hostPath ?? '')}`,
      fix: `replace volume "${v.name}" with an emptyDir, configMap, secret or persistentVolumeClaim`,
    }));
}

// The rule in CEL, for the fail-safe ValidatingAdmissionPolicy.
const CEL = {
  validations: [
    {
      expression: '!has(pod.volumes) || !pod.volumes.exists(v, has(v.hostPath))',
      messageExpression: "pod.volumes.filter(v, has(v.hostPath)).map(v, 'volume \"' + v.name + '\" mounts the host path \"' + (has(v.hostPath.path) ? v.hostPath.path : '') + '\"').join('; ')",
      fix: 'replace the volume with an emptyDir, configMap, secret or persistentVolumeClaim',
    },
  ],
};

export const disallowHostPath: Policy<HostPathParams> = {
  id: 'disallow-host-path',
  title: 'No hostPath volumes',
  description: 'No pod mounts a hostPath volume.',
  severity: 'high',
  ...BASELINE_CONTROL,
  ...NO_PARAMS,
  check,
  cel: CEL,
};
