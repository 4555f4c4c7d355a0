// Pod and workload manifests for the e2e suite (JSON strings for `kubectl apply -f -`).

export const COMPLIANT_IMAGE = 'registry.k8s.io/pause:3.10';

type Json = Record<string, unknown>;

// A container security context that passes every built-in portcullis policy.
export function compliantSecurityContext(): Json {
  return {
    runAsNonRoot: true,
    runAsUser: 1000,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

// The same context running as root (only require-non-root-user fails).
export function rootSecurityContext(): Json {
  return { ...compliantSecurityContext(), runAsNonRoot: false, runAsUser: 0 };
}

export type Flavour = 'compliant' | 'root';

export function container(name: string, flavour: Flavour): Json {
  return {
    name,
    image: COMPLIANT_IMAGE,
    securityContext: flavour === 'compliant' ? compliantSecurityContext() : rootSecurityContext(),
  };
}

export function podSpec(flavour: Flavour): Json {
  return { automountServiceAccountToken: false, containers: [container('app', flavour)] };
}

export function pod(name: string, namespace: string, flavour: Flavour): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: name } },
    spec: podSpec(flavour),
  });
}

export function deployment(name: string, namespace: string, flavour: Flavour, replicas = 2): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: podSpec(flavour) },
    },
  });
}

export function namespace(name: string, labels: Record<string, string> = {}): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
}

// A strategic-merge patch adding one ephemeral container (for --subresource=ephemeralcontainers).
export function ephemeralContainerPatch(name: string, flavour: Flavour): string {
  return JSON.stringify({ spec: { ephemeralContainers: [{ ...container(name, flavour), targetContainerName: 'app' }] } });
}

// The require-signed-images block of a PortcullisConfig (under `policies:`): a cosign key trusted for one registry.
export function signedImagesPolicy(registryHost: string, publicKeyFile: string, extra = ''): string {
  return `  require-signed-images:
    action: deny
    authorities:
      team-key: { keyFile: ${publicKeyFile}, ignoreTlog: true }
    images:
      - { pattern: "${registryHost}/**", authorities: [team-key] }${extra}`;
}
