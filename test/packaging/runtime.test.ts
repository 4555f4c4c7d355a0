// Builds the image's stages without Docker (test/packaging/mini-build.ts: each stage's COPY and RUN lines carried
// out in a directory standing in for its root filesystem), then runs the runtime stage's files the way the image
// would: ENTRYPOINT + CMD as uid 65532 with only /tmp writable, the image's HEALTHCHECK command, SIGTERM as PID 1.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execForm, readDockerfile } from './dockerfile.js';
import { buildStages } from './mini-build.js';
import type { BuiltStage } from './mini-build.js';
import { freePort } from '../e2e/proc.js';

const NONROOT = 65532;
const asRoot = process.getuid?.() === 0;
const { stages } = readDockerfile();
const runtime = stages.at(-1)!;
const instruction = (keyword: string) => runtime.instructions.find((i) => i.keyword === keyword)!;

let root: string;
let app: string;
let tmp: string;
let node: string;
let built: Map<string, BuiltStage>;

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, rejectUnauthorized: false, timeout: 2000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

// Lists every file under dir with its size and mtime, to prove nothing was written.
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out.push(`${p}:${statSync(p).size}:${statSync(p).mtimeMs}`);
    }
  };
  walk(dir);
  return out.sort();
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'portcullis-runtime-'));
  chmodSync(root, 0o755);
  // every stage, as Docker would run it: the deps stage's `npm ci --omit=dev`, the build stage's `npm ci` and
  // tsc on the sources COPY brings in through .dockerignore, then the runtime stage's COPY --from lines
  const env = {
    ...process.env, // registry settings (proxy, CA) as the build host has them
    PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: homedir(), // the npm cache: what the BuildKit cache mount on /root/.npm holds
    npm_config_prefer_offline: 'true',
    npm_config_update_notifier: 'false',
  };
  built = buildStages(stages, join(root, 'stages'), env);
  app = join(built.get(runtime.name ?? String(stages.length - 1))!.root, 'app');
  tmp = join(root, 'tmp');
  mkdirSync(tmp, { mode: 0o1777 });
  chmodSync(tmp, 0o1777);
  // the runtime image's /nodejs/bin/node: a copy the non-root user can reach whatever the checkout's permissions
  node = join(root, 'nodejs', 'bin', 'node');
  mkdirSync(dirname(node), { recursive: true, mode: 0o755 });
  copyFileSync(process.execPath, node);
  chmodSync(node, 0o755);
}, 900_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the image, built and run without Docker', () => {
  it('the runtime stage holds node_modules, dist and package.json only, with production dependencies only', () => {
    expect(readdirSync(join(app, '..'))).toEqual(['app']);
    expect(readdirSync(app).sort()).toEqual(['dist', 'node_modules', 'package.json']);
    expect(existsSync(join(app, 'dist', 'src', 'cli', 'main.js'))).toBe(true);
    // no tests or sources compiled in: .dockerignore and tsconfig.build.json keep them out
    const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : [e.name]));
    expect(files(join(app, 'dist')).filter((f) => /\.test\.js$|\.ts$/.test(f))).toEqual([]);
    const modules = readdirSync(join(app, 'node_modules'));
    expect(modules).toContain('fastify');
    expect(modules).toContain('node-forge');
    expect(existsSync(join(app, 'node_modules', '@kubernetes', 'client-node'))).toBe(true);
    for (const dev of ['typescript', 'vitest', 'node', 'fast-check', 'bcryptjs']) expect(modules, dev).not.toContain(dev);
  });

  it('serves /healthz as uid 65532 with a read-only app dir, passes the HEALTHCHECK, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const map = (a: string) => a.replace(/^\/(app|tmp)\//, (_m, dir: string) => `${dir === 'app' ? app : tmp}/`);
    const entrypoint = execForm(instruction('ENTRYPOINT').args)!;
    const cmd = execForm(instruction('CMD').args)!;
    expect(entrypoint[0]).toBe('/nodejs/bin/node');
    const argv = [...entrypoint.slice(1), ...cmd].map(map);
    const before = snapshot(app);
    const ids = asRoot ? { uid: NONROOT, gid: NONROOT } : {};
    if (asRoot) chownSync(tmp, NONROOT, NONROOT);
    const child = spawn(node, [...argv, '--host', '127.0.0.1', '--port', String(port)], {
      cwd: app,
      env: { NODE_ENV: 'production', HOME: '/nonexistent', TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...ids,
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        status = await get(port, '/healthz').catch(() => 0);
        if (status !== 200) await new Promise((r) => setTimeout(r, 200));
        expect(child.exitCode, output).toBeNull();
      }
      expect(status, output).toBe(200);
      expect(await get(port, '/readyz')).toBe(200);

      // the image's HEALTHCHECK, exec form, with the port this test chose
      const hc = execForm(instruction('HEALTHCHECK').args)!;
      const hcArgs = hc.slice(1).map((a) => a.replace('port:8443', `port:${port}`));
      const health = spawnSync(node, hcArgs, { env: {}, timeout: 10_000, ...ids });
      expect(health.status).toBe(0);
      const closedPort = await freePort();
      const unhealthy = spawnSync(node, hc.slice(1).map((a) => a.replace('port:8443', `port:${closedPort}`)), { env: {}, timeout: 10_000 });
      expect(unhealthy.status).toBe(1);

      expect(existsSync(join(tmp, 'portcullis-certs', 'tls.crt'))).toBe(true);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toContain('"msg":"stopped"');
      expect(snapshot(app)).toEqual(before);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
