// restrict-volume-types
// Rule (Pod Security Standards restricted; PSA check restrictedVolumes): "In addition to restricting HostPath
// volumes, the restricted profile limits usage of inline pod volume sources to: configMap, downwardAPI, emptyDir,
// projected, secret, csi, persistentVolumeClaim, ephemeral, image." Restricted fields: spec.volumes[*] (hostPath,
// gcePersistentDisk, awsElasticBlockStore, gitRepo, nfs, iscsi, glusterfs, rbd, flexVolume, cinder, cephfs, flocker,
// fc, azureFile, vsphereVolume, quobyte, azureDisk, portworxVolume, photonPersistentDisk, scaleIO, storageos).
// Allowed values: undefined/null. A volume without a source is an emptyDir (API defaulting), as in PSA's fixtures.
import type { CheckInput, Finding, Policy } from '../../src/engine/types.js';
import { RESTRICTED_CONTROL, NAME_LIST } from '../common.js';

export interface VolumeTypesParams {
  readonly allowedTypes: readonly string[];
}

export const RESTRICTED_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'image', 'persistentVolumeClaim', 'projected', 'secret'];

// Checks every volume's source against the allowed types.
function check({ pod, params }: CheckInput<VolumeTypesParams>): Finding[] {
  return pod.spec.volumes
    .filter((v) => !params.allowedTypes.includes(v.source))
    .map((v) => ({
      problem: `volume "${v.name}" is of type ${v.source}`,
      fix: `use one of ${params.allowedTypes.join(', ')} (a persistentVolumeClaim reaches other storage)`,
    }));
}

// The rule in CEL, for the fail-safe ValidatingAdmissionPolicy: a volume's type is its key other than name.
const CEL = {
  validations: [
    {
      expression: "!has(pod.volumes) || pod.volumes.all(v, v.all(k, k == 'name' || k in params.allowedTypes))",
      messageExpression: "pod.volumes.filter(v, !v.all(k, k == 'name' || k in params.allowedTypes)).map(v, 'volume \"' + v.name + '\" is of type ' + v.filter(k, k != 'name').join(', ')).join('; ')",
      fix: 'use an allowed volume type (a persistentVolumeClaim reaches other storage)',
    },
  ],
};

export const restrictVolumeTypes: Policy<VolumeTypesParams> = {
  id: 'restrict-volume-types',
  title: 'Restricted volume types',
  description: 'Every volume is a configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected or secret volume.',
  severity: 'medium',
  ...RESTRICTED_CONTROL,
  paramsSchema: {
    allowedTypes: NAME_LIST,
  },
  defaults: { allowedTypes: RESTRICTED_VOLUME_TYPES },
  check,
  cel: CEL,
};
