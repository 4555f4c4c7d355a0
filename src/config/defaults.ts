// The built-in default configuration: what `npm start` and `portcullis serve` without --config use.
export const DEFAULT_CONFIG_YAML = `apiVersion: portcullis.dev/v1alpha1
kind: PortcullisConfig
mode: enforce                  # enforce | audit
registry:
  enabled: true                # false: no registry traffic; image-dependent checks use spec-only rules
policies:
  require-non-root-user: { action: deny, requireRunAsNonRoot: false }
  require-drop-all-capabilities: { action: deny }
  disallow-latest-tag: { action: deny }
  require-read-only-root-filesystem: { action: deny }
  require-signed-images: { action: off }
exclude:
  namespaces: [kube-system]
pinning:
  enabled: auto                # auto: pin Pods' images to digests when image facts or signatures are looked up
  required: false              # true: /validate refuses a Pod whose images were not pinned
`;
