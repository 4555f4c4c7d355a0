// require-non-root-user with image facts from a real registry (Debian's distribution registry, umoci images),
// through the same runtime the webhook builds.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/cli/runtime.js';
import type { Runtime } from '../../src/cli/runtime.js';
import { startRegistry } from '../helpers/registry.js';
import type { TestRegistry } from '../helpers/registry.js';
import { pushTestImages } from '../helpers/registry-images.js';
import type { TestImage } from '../helpers/registry-images.js';
import { evaluateObject, KINDS, objectOf, specWith } from '../helpers/pods.js';

let registry: TestRegistry;
let images: Record<string, TestImage>;
let runtime: Runtime;

function configFile(registryHost: string, extra = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-facts-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    `apiVersion: portcullis.dev/v1alpha1
kind: PortcullisConfig
registry:
  enabled: true
  insecure: ["${registryHost}"]
  timeout: 2s
policies:
  require-non-root-user: { action: deny${extra} }
  require-drop-all-capabilities: { action: off }
  disallow-latest-tag: { action: off }
  require-read-only-root-filesystem: { action: off }
`,
  );
  return file;
}

// A pod whose spec names no user: the image config decides.
const podUsing = (image: string, tweak: (s: any) => void = () => undefined) =>
  objectOf(
    KINDS[0]!,
    specWith((s) => {
      delete s.securityContext;
      s.containers[0].image = image;
      tweak(s);
    }),
  );

beforeAll(async () => {
  registry = await startRegistry({ auth: 'none', tls: false });
  images = await pushTestImages(registry);
  runtime = await createRuntime({ configPath: configFile(registry.host), logger: pino({ level: 'silent' }), watch: false });
}, 180_000);

afterAll(async () => {
  await runtime?.close();
  await registry?.stop();
});

describe('require-non-root-user with the image config User', () => {
  it.each(['user-empty', 'user-0', 'user-root', 'user-0-0'])('denies %s and names the inspected digest', async (tag) => {
    const d = await evaluateObject(runtime.engine, podUsing(images[tag]!.ref));
    expect(d.allowed).toBe(false);
    expect(d.violations[0]?.problem).toMatch(/image sha256:[0-9a-f]{64} \(linux\/amd64\) runs as root/);
    expect(d.violations[0]?.fix).toContain('securityContext.runAsUser');
  });

  it.each(['user-1000', 'user-1000-1000', 'user-65532'])('allows %s', async (tag) => {
    const d = await evaluateObject(runtime.engine, podUsing(images[tag]!.ref));
    expect(d.violations).toEqual([]);
  });

  it('denies a named user the kubelet cannot verify', async () => {
    const d = await evaluateObject(runtime.engine, podUsing(images['user-nginx']!.ref));
    expect(d.allowed).toBe(false);
    expect(d.violations[0]?.problem).toContain('named user "nginx"');
  });

  it('a runAsUser in the spec wins over the image', async () => {
    const d = await evaluateObject(runtime.engine, podUsing(images['user-root']!.ref, (s) => (s.containers[0].securityContext.runAsUser = 1000)));
    expect(d.allowed).toBe(true);
  });

  it('chooses the platform from the node selector of a multi-arch image', async () => {
    const multi = images.multi!.ref;
    expect((await evaluateObject(runtime.engine, podUsing(multi))).allowed).toBe(true);
    const arm = await evaluateObject(runtime.engine, podUsing(multi, (s) => (s.nodeSelector = { 'kubernetes.io/arch': 'arm64' })));
    expect(arm.allowed).toBe(false);
    expect(arm.violations[0]?.problem).toContain('linux/arm64');
  });

  it('falls back to the spec-only rule when the registry cannot answer', async () => {
    const missing = `${registry.host}/no/such-image:1.0`;
    const unproven = await evaluateObject(runtime.engine, podUsing(missing));
    expect(unproven.allowed).toBe(false);
    expect(unproven.violations[0]?.problem).toMatch(/cannot prove non-root.*image config unavailable/);
    const nonRoot = await evaluateObject(runtime.engine, podUsing(missing, (s) => (s.securityContext = { runAsNonRoot: true })));
    expect(nonRoot.allowed).toBe(true);
  });

  it('onError: deny refuses when the registry cannot answer', async () => {
    const strict = await createRuntime({ configPath: configFile(registry.host, ', onError: deny'), logger: pino({ level: 'silent' }), watch: false });
    try {
      const d = await evaluateObject(strict.engine, podUsing(`${registry.host}/no/such-image:1.0`, (s) => (s.securityContext = { runAsNonRoot: true })));
      expect(d.allowed).toBe(false);
      expect(d.violations[0]?.problem).toContain('cannot inspect image config');
    } finally {
      await strict.close();
    }
  });

  it('offline runtimes make no registry look-ups', async () => {
    const offline = await createRuntime({ configPath: configFile(registry.host), logger: pino({ level: 'silent' }), watch: false, offline: true });
    try {
      const d = await evaluateObject(offline.engine, podUsing(images['user-root']!.ref, (s) => (s.securityContext = { runAsNonRoot: true })));
      expect(d.allowed).toBe(true);
    } finally {
      await offline.close();
    }
  });
});
