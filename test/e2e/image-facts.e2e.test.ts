// Image facts through a real kube-apiserver: the image config's User decides for pods that name no user, read
// from a TLS + Basic-auth registry with the credentials of the pod's imagePullSecret.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clusterClient, waitForServiceAccount } from './cluster.js';
import { compliantSecurityContext, namespace } from './manifests.js';
import { startPortcullis, type Portcullis } from './portcullis.js';
import { registerPortcullis, unregisterPortcullis } from './register.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushTestImages, type TestImage } from '../helpers/registry-images.js';

const cluster = clusterClient(inject('cluster'));
const NS = 'e2e-images';

let workDir: string;
let registry: TestRegistry;
let images: Record<string, TestImage>;
let portcullis: Portcullis;

const apply = (manifest: unknown, ...extra: string[]) => cluster.kubectl(['apply', '-f', '-', ...extra], { input: JSON.stringify(manifest) });

// A pod that names no user: only the image config can tell who it runs as.
function podFor(name: string, image: string, pullSecret?: string): unknown {
  const { runAsNonRoot: _n, runAsUser: _u, ...securityContext } = compliantSecurityContext();
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: {
      automountServiceAccountToken: false,
      ...(pullSecret ? { imagePullSecrets: [{ name: pullSecret }] } : {}),
      containers: [{ name: 'app', image, securityContext }],
    },
  };
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-images-'));
  registry = await startRegistry({ auth: 'basic', tls: true });
  images = await pushTestImages(registry, { only: ['user-root', 'user-1000', 'user-65532'] });
  expect((await apply(JSON.parse(namespace(NS)))).code).toBe(0);
  await waitForServiceAccount(cluster, NS);
  const secret = await cluster.kubectl([
    'create', 'secret', 'docker-registry', 'registry-creds', '-n', NS,
    `--docker-server=${registry.host}`, `--docker-username=${registry.username}`, `--docker-password=${registry.password}`,
  ]);
  expect(secret.code, secret.stderr).toBe(0);
  // the pull-secret reader uses the kubeconfig in KUBECONFIG, which the child process inherits
  process.env.KUBECONFIG = cluster.kubeconfig;
  portcullis = await startPortcullis({
    dir: join(workDir, 'server'),
    config: `apiVersion: portcullis.dev/v1alpha1
kind: PortcullisConfig
registry:
  enabled: true
  caFile: ${registry.caFile}
  usePullSecrets: true
  timeout: 3s
policies:
  require-non-root-user: {action: deny}
  require-drop-all-capabilities: {action: deny}
  disallow-latest-tag: {action: deny}
  require-read-only-root-filesystem: {action: deny}
`,
  });
  await registerPortcullis(cluster, portcullis, podFor('probe', images['user-root']!.ref, 'registry-creds'));
}, 240_000);

afterAll(async () => {
  await unregisterPortcullis(cluster, NS, portcullis, registry);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('image config User at admission', () => {
  it('refuses an image whose config User is root, naming the digest it inspected', async () => {
    const res = await apply(podFor('root-image', images['user-root']!.ref, 'registry-creds'));
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('[require-non-root-user] container "app" (containers[0]): image sha256:');
    expect(res.stderr).toContain('runs as root (config User "root")');
  });

  it('admits an image whose config User is 1000', async () => {
    const res = await apply(podFor('uid-image', images['user-1000']!.ref, 'registry-creds'));
    expect(res.code, res.stderr).toBe(0);
  });

  // (results fetched with credentials are shared by digest, so this uses an image nobody looked up before)
  it('without the pull secret the registry refuses, and the spec-only rule decides with the reason', async () => {
    const res = await apply(podFor('no-creds', images['user-65532']!.ref));
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('cannot prove non-root');
    expect(res.stderr).toMatch(/image config unavailable: .*401/);
  });
});
