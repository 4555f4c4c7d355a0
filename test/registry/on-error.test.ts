// Every answer carries the verdict onError documents, whatever the registry does: hanging, dripping its body, 429,
// 500 or resetting connections, at the API server's ?timeout= of 1 s, 3 s and 10 s, for each onError value of both
// image-dependent policies. Look-ups settle before a reserve, so "no decision in time" never stands in for onError.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/cli/runtime.js';
import { buildApp } from '../../src/server/app.js';
import { generatedTlsSource } from '../../src/server/tls.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { RegistryWriter, keyPair, legacySignWithKey } from '../helpers/cosign-format.js';
import { startFaultProxy, type Fault, type FaultProxy } from '../helpers/registry-proxy.js';
import { KINDS, objectOf, reviewOf } from '../helpers/pods.js';
import type { Json } from '../helpers/pods.js';

const FAULTS: Record<string, Fault> = {
  hang: { kind: 'hang' },
  'slow body': { kind: 'drip', intervalMs: 200 },
  '429': { kind: 'status', status: 429 },
  '500': { kind: 'status', status: 500 },
  reset: { kind: 'reset' },
};
const TIMEOUTS = ['1s', '3s', '10s'];

interface Case {
  readonly name: string;
  readonly policy: 'require-non-root-user' | 'require-signed-images';
  readonly policies: string;
  /** the verdict onError documents for a registry that cannot answer */
  readonly allowed: boolean;
}

const key = keyPair('p256');
const signed = (onError: string, hosts: string[]) => `
  require-non-root-user: { action: "off" }
  require-signed-images:
    action: deny
    onError: ${onError}
    authorities: { team: { key: ${JSON.stringify(key.publicPem)}, ignoreTlog: true } }
    images: [${hosts.map((h) => `{ pattern: "${h}/**", authorities: [team] }`).join(', ')}]`;
const nonRoot = (onError: string) => `
  require-non-root-user: { action: deny, onError: ${onError} }
  require-signed-images: { action: "off" }`;

let registry: TestRegistry;
let dir: string;
const proxies: Record<string, FaultProxy> = {};
const apps: Array<{ c: Case; app: FastifyInstance; runtime: Runtime }> = [];

// A pod that names no UID: only the image config (or, on fallback, runAsNonRoot: true) can show it is not root.
function podFor(image: string): Json {
  const spec = {
    securityContext: { runAsNonRoot: true },
    containers: [{ name: 'app', image, securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
  };
  return objectOf(KINDS[0]!, spec, 'on-error');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-onerror-'));
  registry = await startRegistry({ auth: 'none', tls: false });
  const w = new RegistryWriter(registry.host);
  const image = await w.image('team/app', 'on-error', '1.0');
  await legacySignWithKey(w, image, key.privateKey);
  for (const [name, fault] of Object.entries(FAULTS)) {
    proxies[name] = await startFaultProxy(registry.url);
    proxies[name].inject({ fault, times: Infinity, match: /^\/v2\/team\// });
  }
  proxies.healthy = await startFaultProxy(registry.url);
  const hosts = Object.values(proxies).map((p) => p.host);
  const cases: Case[] = [
    { name: 'require-non-root-user onError: fallback', policy: 'require-non-root-user', policies: nonRoot('fallback'), allowed: true },
    { name: 'require-non-root-user onError: allow', policy: 'require-non-root-user', policies: nonRoot('allow'), allowed: true },
    { name: 'require-non-root-user onError: deny', policy: 'require-non-root-user', policies: nonRoot('deny'), allowed: false },
    { name: 'require-signed-images onError: allow', policy: 'require-signed-images', policies: signed('allow', hosts), allowed: true },
    { name: 'require-signed-images onError: deny', policy: 'require-signed-images', policies: signed('deny', hosts), allowed: false },
  ];
  for (const [i, c] of cases.entries()) {
    const file = join(dir, `config-${i}.yaml`);
    writeFileSync(
      file,
      `apiVersion: portcullis.dev/v1alpha1
kind: PortcullisConfig
registry:
  insecure: ${JSON.stringify(hosts)}
  cache: { failureTtl: 0s }
pinning: { enabled: false }
policies:${c.policies}
  require-drop-all-capabilities: { action: deny }
  disallow-latest-tag: { action: deny }
  require-read-only-root-filesystem: { action: deny }
`,
    );
    const runtime = await createRuntime({ configPath: file, logger: pino({ level: 'silent' }), watch: false });
    const tls = generatedTlsSource(['127.0.0.1'], join(dir, `certs-${i}`));
    const { app } = await buildApp({ engine: runtime.engine, tls: tls.source, logger: pino({ level: 'silent' }), metrics: new Registry() });
    await app.ready();
    apps.push({ c, app, runtime });
  }
}, 120_000);

afterAll(async () => {
  for (const { app, runtime } of apps) {
    await app.close();
    await runtime.close();
  }
  for (const p of Object.values(proxies)) await p.stop();
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function verdict(app: FastifyInstance, host: string, timeout: string): Promise<Json> {
  const body = JSON.stringify(reviewOf(podFor(`${host}/team/app:1.0`)));
  const res = await app.inject({ method: 'POST', url: `/validate?timeout=${timeout}`, payload: body, headers: { 'content-type': 'application/json' } });
  expect(res.statusCode).toBe(200);
  return (res.json() as Json).response as Json;
}

describe('a registry that cannot answer: the verdict is what onError says', () => {
  it('allows the healthy registry in every configuration (the faults below are the only difference)', async () => {
    for (const { c, app } of apps) expect((await verdict(app, proxies.healthy!.host, '10s')).allowed, c.name).toBe(true);
  });

  for (const timeout of TIMEOUTS) {
    it(`answers every fault with the onError verdict at ?timeout=${timeout}`, async () => {
      const runs = apps.flatMap(({ c, app }) =>
        Object.keys(FAULTS).map(async (fault) => {
          const host = proxies[fault]!.host;
          const response = await verdict(app, host, timeout);
          return { what: `${c.name}, ${fault}, ${timeout}`, c, host, response };
        }),
      );
      for (const { what, c, host, response } of await Promise.all(runs)) {
        expect(response.allowed, `${what}: ${response.status?.message}`).toBe(c.allowed);
        if (c.allowed) continue;
        const message = response.status.message as string;
        expect(message, what).not.toContain('no decision before the API server timeout');
        expect(message, what).toContain(`[${c.policy}] container "app" (containers[0]):`);
        expect(message, what).toContain(host);
      }
    }, 60_000);
  }
});
