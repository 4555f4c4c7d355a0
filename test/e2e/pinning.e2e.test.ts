// Digest pinning through a real kube-apiserver and kube-controller-manager, with both webhook configurations
// registered: a Deployment applied by tag runs Pods pinned to the digest real cosign signed while the Deployment keeps
// its tag; a tag moved to unsigned content makes a scale-up fail; kubectl debug containers and images a Pod update
// changes are pinned; a server-side dry run changes nothing. Against the distribution registry (referrers tag fallback) and the referrers-API registry.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clusterClient, waitForServiceAccount } from './cluster.js';
import { compliantSecurityContext, namespace, signedImagesPolicy } from './manifests.js';
import { startPortcullis, type Portcullis } from './portcullis.js';
import { waitFor } from './proc.js';
import { registerPinning, registerPortcullis, unregisterPortcullis } from './register.js';
import { toolPath } from './tools.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushLayoutTag } from '../helpers/registry-images.js';
import { Cosign, startOcireg } from '../helpers/cosign-cli.js';

const cluster = clusterClient(inject('cluster'));
type Json = Record<string, any>;

// A registry to push to: the distribution registry, or ocireg (the OCI 1.1 referrers API) behind the same shape.
async function registryOf(flavour: 'distribution' | 'referrers-api'): Promise<TestRegistry> {
  if (flavour === 'distribution') return startRegistry({ auth: 'none', tls: false });
  const oci = await startOcireg(toolPath('ocireg'));
  return { host: oci.host, url: `http://${oci.host}`, auth: 'none', tls: false, logs: () => '', stop: oci.stop };
}

const getJson = async (args: string[]): Promise<Json> => {
  const res = await cluster.kubectl([...args, '-o', 'json']);
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as Json;
};

for (const flavour of ['distribution', 'referrers-api'] as const) {
  describe(`digest pinning (${flavour} registry)`, () => {
    const NS = `e2e-pinning-${flavour}`;
    let workDir: string;
    let registry: TestRegistry;
    let portcullis: Portcullis;
    let appTag: string;
    let signedDigest: string;
    let debugTag: string;
    let debugDigest: string;

    const container = (image: string) => ({ name: 'app', image, securityContext: compliantSecurityContext() });
    const podFor = (name: string, image: string, securityContext = compliantSecurityContext()) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: NS },
      spec: { automountServiceAccountToken: false, containers: [{ ...container(image), securityContext }] },
    });
    const deployment = () => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { automountServiceAccountToken: false, containers: [container(appTag)] } },
      },
    });
    const webPods = async () => ((await getJson(['get', 'pods', '-n', NS, '-l', 'app=web'])).items as Json[]);

    beforeAll(async () => {
      workDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-pin-'));
      registry = await registryOf(flavour);
      signedDigest = await pushLayoutTag(registry, 'user-1000', 'e2e/app', 'v1');
      debugDigest = await pushLayoutTag(registry, 'user-1000', 'e2e/debug', 'v1');
      appTag = `${registry.host}/e2e/app:v1`;
      debugTag = `${registry.host}/e2e/debug:v1`;
      const cosign = new Cosign(toolPath('cosign3'), 3);
      const keys = await cosign.generateKeyPair();
      await cosign.sign(`${registry.host}/e2e/app@${signedDigest}`, keys);
      await cosign.sign(`${registry.host}/e2e/debug@${debugDigest}`, keys);
      expect((await cluster.kubectl(['apply', '-f', '-'], { input: namespace(NS) })).code).toBe(0);
      await waitForServiceAccount(cluster, NS);
      portcullis = await startPortcullis({
        dir: join(workDir, 'server'),
        config: `apiVersion: portcullis.dev/v1alpha1
kind: PortcullisConfig
registry:
  insecure: ["${registry.host}"]
  cache: { tagTtl: 0s }
policies:
${signedImagesPolicy(registry.host, keys.pub)}
  require-non-root-user: { action: deny }
  require-drop-all-capabilities: { action: deny }
  disallow-latest-tag: { action: deny }
  require-read-only-root-filesystem: { action: "off" }   # kubectl debug --profile=restricted leaves it writable
pinning:
  required: true
`,
      });
      await registerPortcullis(cluster, portcullis, podFor('probe', appTag, { ...compliantSecurityContext(), runAsUser: 0, runAsNonRoot: false }));
      await registerPinning(cluster, portcullis, podFor('probe', debugTag));
    }, 300_000);

    afterAll(async () => {
      await unregisterPortcullis(cluster, NS, portcullis, registry);
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    });

    it('runs the Pods of a Deployment applied by tag at the signed digest, while the Deployment keeps exactly its tag', async () => {
      const manifest = join(workDir, 'deployment.json');
      writeFileSync(manifest, JSON.stringify(deployment()));
      const applied = await cluster.kubectl(['apply', '-f', manifest]);
      expect(applied.code, applied.stderr).toBe(0);
      const pods = await waitFor('a ReplicaSet Pod', async () => ((await webPods()).length > 0 ? webPods() : undefined), { timeoutMs: 60_000, intervalMs: 500 });
      const pod = pods[0] as Json;
      expect(pod.spec.containers[0].image).toBe(`${appTag}@${signedDigest}`);
      expect(pod.metadata.annotations['portcullis.dev/pinned']).toBe(`app=${signedDigest}`);
      const dep = await getJson(['get', 'deployment', 'web', '-n', NS]);
      expect(dep.spec.template.spec.containers[0].image).toBe(appTag);
      // what GitOps applied is what the cluster holds: no drift
      const diff = await cluster.kubectl(['diff', '-f', manifest]);
      expect(diff.code, diff.stdout).toBe(0);
      console.log(`[pinning e2e ${flavour}] Deployment image: ${dep.spec.template.spec.containers[0].image}; Pod ${pod.metadata.name} image: ${pod.spec.containers[0].image}`);
      const line = portcullis.logLines().find((l) => l.msg === 'images pinned' && String(l.pinned).includes(`${appTag}@${signedDigest}`));
      expect(line).toMatchObject({ namespace: NS, pinned: `app: ${appTag} -> ${appTag}@${signedDigest}` });
    });

    it('refuses a scale-up once the tag names unsigned content', async () => {
      const moved = await pushLayoutTag(registry, 'user-65532', 'e2e/app', 'v1');
      expect(moved).not.toBe(signedDigest);
      const scaled = await cluster.kubectl(['scale', 'deployment', 'web', '-n', NS, '--replicas=2']);
      expect(scaled.code, scaled.stderr).toBe(0);
      const failure = await waitFor(
        'ReplicaFailure on the ReplicaSet',
        async () => {
          const rs = ((await getJson(['get', 'replicasets', '-n', NS, '-l', 'app=web'])).items as Json[])[0];
          const cond = ((rs?.status?.conditions ?? []) as Json[]).find((c) => c.type === 'ReplicaFailure');
          return cond?.message?.includes('[require-signed-images]') ? (cond.message as string) : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      expect(failure).toContain(moved.slice(0, 19));
      console.log(`[pinning e2e ${flavour}] scale-up after the tag moved to ${moved}: ${failure.split('\n')[0]}`);
      const pods = await webPods();
      expect(pods.map((p) => p.spec.containers[0].image)).toEqual([`${appTag}@${signedDigest}`]);
    });

    it('pins the container kubectl debug adds', async () => {
      const name = ((await webPods())[0] as Json).metadata.name as string;
      const debug = await cluster.kubectl(['debug', `pod/${name}`, '-n', NS, `--image=${debugTag}`, '--container=debugger', '--profile=restricted']);
      expect(debug.code, debug.stderr).toBe(0);
      const pod = await getJson(['get', 'pod', name, '-n', NS]);
      const ephemeral = (pod.spec.ephemeralContainers as Json[]).find((c) => c.name === 'debugger') as Json;
      expect(ephemeral.image).toBe(`${debugTag}@${debugDigest}`);
      expect(pod.spec.containers[0].image).toBe(`${appTag}@${signedDigest}`);
    });

    it('pins the image a Pod update changes (kubectl set image)', async () => {
      const name = ((await webPods())[0] as Json).metadata.name as string;
      const set = await cluster.kubectl(['set', 'image', `pod/${name}`, '-n', NS, `app=${debugTag}`]);
      expect(set.code, set.stderr).toBe(0);
      const pod = await getJson(['get', 'pod', name, '-n', NS]);
      expect(pod.spec.containers[0].image).toBe(`${debugTag}@${debugDigest}`);
      expect(pod.metadata.annotations['portcullis.dev/pinned']).toContain(`app=${debugDigest}`);
      // a label change updates the Pod without touching its images
      expect((await cluster.kubectl(['label', `pod/${name}`, '-n', NS, 'checked=yes'])).code).toBe(0);
      expect((await getJson(['get', 'pod', name, '-n', NS])).spec.containers[0].image).toBe(`${debugTag}@${debugDigest}`);
    });

    it('changes nothing on a server-side dry run, and says what it would have pinned', async () => {
      const res = await cluster.kubectl(['create', '-f', '-', '--dry-run=server', '-o', 'json'], { input: JSON.stringify(podFor('dry', debugTag)) });
      expect(res.code, res.stderr).toBe(0);
      const out = JSON.parse(res.stdout) as Json;
      expect(out.spec.containers[0].image).toBe(debugTag);
      expect(out.metadata.annotations?.['portcullis.dev/pinned']).toBeUndefined();
      expect(res.stderr).toContain(`would be pinned to ${debugTag}@${debugDigest}`);
      expect((await cluster.kubectl(['get', 'pod', 'dry', '-n', NS])).code).not.toBe(0);
    });
  });
}
