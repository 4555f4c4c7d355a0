// require-signed-images through a real kube-apiserver: an image signed by real cosign (v3, bundle format) is
// admitted, an unsigned one is refused with the reason.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clusterClient, waitForServiceAccount } from './cluster.js';
import { compliantSecurityContext, namespace, signedImagesPolicy } from './manifests.js';
import { startPortcullis, type Portcullis } from './portcullis.js';
import { registerPortcullis, unregisterPortcullis } from './register.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushTestImages, type TestImage } from '../helpers/registry-images.js';
import { Cosign, toolPath } from '../helpers/cosign-cli.js';
import { INSTALL, requireTool } from '../helpers/require-tool.js';

const cluster = clusterClient(inject('cluster'));
const NS = 'e2e-signatures';
const cosignBin = toolPath('cosign3');

let workDir: string;
let registry: TestRegistry;
let images: Record<string, TestImage>;
let portcullis: Portcullis;

const apply = (manifest: unknown, ...extra: string[]) => cluster.kubectl(['apply', '-f', '-', ...extra], { input: JSON.stringify(manifest) });
const podFor = (name: string, image: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: NS },
  spec: { automountServiceAccountToken: false, containers: [{ name: 'app', image, securityContext: compliantSecurityContext() }] },
});

describe.runIf(requireTool('cosign3', cosignBin !== undefined, INSTALL.cosign))('signed images at admission', () => {
  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-sig-'));
    registry = await startRegistry({ auth: 'none', tls: false });
    images = await pushTestImages(registry, { only: ['user-1000', 'user-65532'] });
    const cosign = new Cosign(cosignBin as string, 3);
    const keys = await cosign.generateKeyPair();
    await cosign.sign(`${registry.host}/${images['user-1000']!.repository}@${images['user-1000']!.digest}`, keys);
    expect((await apply(JSON.parse(namespace(NS)))).code).toBe(0);
    await waitForServiceAccount(cluster, NS);
    portcullis = await startPortcullis({
      dir: join(workDir, 'server'),
      config: `apiVersion: portcullis.dev/v1alpha1
kind: PortcullisConfig
registry:
  enabled: true
  insecure: ["${registry.host}"]
policies:
${signedImagesPolicy(registry.host, keys.pub, '\n    noMatch: allow')}
  require-non-root-user: {action: deny}
  require-drop-all-capabilities: {action: deny}
  disallow-latest-tag: {action: deny}
  require-read-only-root-filesystem: {action: deny}
`,
    });
    await registerPortcullis(cluster, portcullis, podFor('probe', images['user-65532']!.ref));
  }, 300_000);

  afterAll(async () => {
    await unregisterPortcullis(cluster, NS, portcullis, registry);
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('admits an image signed by the trusted key', async () => {
    const res = await apply(podFor('signed', images['user-1000']!.ref));
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('Warning: [require-signed-images] container "app" (containers[0]): signature verified at the digest tag');
  });

  it('refuses an unsigned image and says no signature was found', async () => {
    const res = await apply(podFor('unsigned', images['user-65532']!.ref));
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('[require-signed-images] container "app" (containers[0]):');
    expect(res.stderr).toMatch(/no signature/i);
  });
});
