// The built `portcullis serve` loads the CEL compiler only for a config with custom policies: at start, or when a
// reload adds the first one. Which packages a process loaded is read from a module-resolution hook.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { KINDS, objectOf, reviewOf, specWith } from '../helpers/pods.js';
import type { Json } from '../helpers/pods.js';
import { https1, startPortcullis } from '../helpers/server.js';
import type { Portcullis } from '../helpers/server.js';

const root = mkdtempSync(join(tmpdir(), 'portcullis-lazy-cel-'));
const HOOK = join(root, 'packages-hook.mjs');
// registers a resolve hook that appends every package a module is resolved in to $PACKAGES_LOG
writeFileSync(
  HOOK,
  `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
import { appendFileSync } from 'node:fs';
export async function resolve(s, c, next) {
  const r = await next(s, c);
  const m = /node_modules\\\\/((?:@[^/]+\\\\/)?[^/]+)/.exec(r.url);
  if (m) appendFileSync(process.env.PACKAGES_LOG, m[1] + '\\\\n');
  return r;
}\`));
`,
);
const CONFIG = 'apiVersion: portcullis.dev/v1alpha1\nkind: PortcullisConfig\n';
const NO_HOST_ALIASES = `customPolicies:
  policies:
    - id: no-host-aliases
      title: hostAliases are not allowed
      validations:
        - expression: "!has(object.spec.hostAliases)"
          message: hostAliases are set
          fix: remove spec.hostAliases
`;
const PINNED = `@sha256:${'ab'.repeat(32)}`;

let srv: Portcullis | undefined;
let n = 0;
afterEach(async () => {
  await srv?.stop();
  srv = undefined;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function serve(config: string, log: string): Promise<Portcullis> {
  return startPortcullis({ config, env: { NODE_OPTIONS: `--import=${HOOK}`, PACKAGES_LOG: log } });
}

function packages(log: string): Set<string> {
  return new Set(existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
}

async function review(s: Portcullis, hostAliases: boolean): Promise<Json> {
  const obj = objectOf(KINDS[0]!, specWith((spec) => {
    spec.containers[0].image += PINNED;
    if (hostAliases) spec.hostAliases = [{ ip: '10.0.0.1', hostnames: ['db'] }];
  }), `p${++n}`);
  const res = await https1(`${s.url}/validate`, { ca: s.caPem!, body: JSON.stringify(reviewOf(obj, { uid: `u${n}` })) });
  expect(res.status, res.text).toBe(200);
  return res.json<Json>().response as Json;
}

describe('portcullis serve: the CEL compiler is loaded only when a custom policy needs it', () => {
  it('never loads @bufbuild/cel for a config without custom policies', async () => {
    const log = join(root, 'none.log');
    srv = await serve(CONFIG, log);
    expect((await review(srv, true)).allowed).toBe(true);
    const loaded = packages(log);
    expect(loaded.has('fastify')).toBe(true); // the hook saw the server's packages
    expect(loaded.has('@bufbuild/cel')).toBe(false);
  });

  it('loads it at start for a config that declares one, and enforces it', async () => {
    const log = join(root, 'start.log');
    srv = await serve(CONFIG + NO_HOST_ALIASES, log);
    expect(packages(log).has('@bufbuild/cel')).toBe(true);
    const denied = await review(srv, true);
    expect(denied.allowed).toBe(false);
    expect((denied.status as Json).message).toContain('[no-host-aliases] pod: hostAliases are set — remove spec.hostAliases');
  });

  it('loads it when a reload adds the first custom policy, and applies the policy to the next review', async () => {
    const log = join(root, 'reload.log');
    srv = await serve(CONFIG, log);
    expect((await review(srv, true)).allowed).toBe(true);
    expect(packages(log).has('@bufbuild/cel')).toBe(false);
    const from = srv.logs().length;
    writeFileSync(srv.configPath!, CONFIG + NO_HOST_ALIASES);
    await srv.waitForLog((l) => l.msg === 'config reloaded', { from });
    expect(packages(log).has('@bufbuild/cel')).toBe(true);
    expect((await review(srv, true)).allowed).toBe(false);
    expect((await review(srv, false)).allowed).toBe(true);
  });
});
