// The built-in default configuration: what `npm start` and `portcullis serve` without --config use,
// generated from the policy list (each policy at its default action).
import type { Policy } from '../engine/types.js';
import { POLICIES } from '../../policies/index.js';

// The YAML of the built-in default config for this policy list.
export function defaultConfigYaml(policies: readonly Policy[]): string {
  const width = Math.max(...policies.map((p) => p.id.length));
  const lines = policies.map((p) => `  ${`${p.id}:`.padEnd(width + 1)} { action: ${p.defaultAction} }`);
  return `apiVersion: portcullis.dev/v1alpha1
kind: PortcullisConfig
mode: enforce                  # enforce | audit
registry:
  enabled: true                # false: no registry traffic; image-dependent checks use spec-only rules
# podSecurity: { level: baseline }   # baseline | restricted: turn on a Pod Security Standards profile (action: deny)
policies:
${lines.join('\n')}
exclude:
  namespaces: [kube-system]
pinning:
  enabled: auto                # auto: pin Pods' images to digests when image facts or signatures are looked up
  required: false              # true: /validate refuses a Pod whose images were not pinned
`;
}

export const DEFAULT_CONFIG_YAML = defaultConfigYaml(POLICIES);
