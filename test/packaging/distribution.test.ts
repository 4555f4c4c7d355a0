// Distribution: the npm package (installed from `npm pack` into an empty prefix) and the single executable (also as
// a kubectl plugin), each run on a copy of the test fixtures outside the repository.
import { requireTool } from '../helpers/require-tool.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './dockerfile.js';
import { haveTools, toolPath } from '../e2e/tools.js';
import { KUBERNETES_SUPPORTED, KUBERNETES_TESTED } from '../../src/cli/version.js';

const NODE24 = join(REPO_ROOT, 'node_modules', 'node', 'bin', 'node');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Run {
  const res = spawnSync(file, args, { encoding: 'utf8', env, cwd, timeout: 120_000 });
  return { code: res.status ?? -1, stdout: res.stdout ?? '', stderr: res.stderr ?? String(res.error ?? '') };
}

// A `node` on PATH older than 24 (the system's Node 20), outside this repository's node_modules.
function oldSystemNode(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || dir.includes('node_modules')) continue;
    const file = join(dir, 'node');
    try {
      accessSync(file, constants.X_OK);
    } catch {
      continue;
    }
    const major = Number(spawnSync(file, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).stdout.trim());
    if (major > 0 && major < 24) return file;
  }
  return undefined;
}

let work: string;
let fixtures: string;
let prefix: string;
let binDir: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'portcullis-dist-'));
  fixtures = join(work, 'fixtures');
  cpSync(join(REPO_ROOT, 'test', 'fixtures', 'manifests'), fixtures, { recursive: true });
  // the package: dist/ as `npm test` built it, packed and installed into an empty prefix
  execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: REPO_ROOT, stdio: 'pipe' });
  const tarball = readdirSync(work).find((f) => /^portcullis-.*\.tgz$/.test(f));
  prefix = join(work, 'prefix');
  execFileSync('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(work, tarball!)], {
    cwd: work,
    stdio: 'pipe',
  });
  // the single executable
  binDir = join(work, 'bin');
  execFileSync(NODE24, ['scripts/build-binary.ts'], { cwd: REPO_ROOT, env: { ...process.env, PORTCULLIS_BINARY_DIR: binDir }, stdio: 'pipe' });
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const BASE_ENV = { HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8' };

describe('npm package (npm pack, npm install -g into an empty prefix)', () => {
  const oldNode = oldSystemNode();

  it.runIf(requireTool('a Node.js older than 24 on PATH (the system node)', Boolean(oldNode), 'the machine\'s Node.js 20 (apt-get install nodejs)'))('on Node.js older than 24 prints a clear message and exits 2', () => {
    expect(oldNode, 'expected the system Node.js 20 on PATH').toBeDefined();
    const env = { ...BASE_ENV, PATH: [dirname(oldNode!), '/usr/bin', '/bin'].join(delimiter) };
    const res = run(join(prefix, 'bin', 'portcullis'), ['audit', '-f', fixtures], env, work);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^portcullis: needs Node\.js 24 or newer, got Node\.js v\d+\./);
    expect(res.stderr).not.toMatch(/SyntaxError/);
    expect(res.stdout).toBe('');
  });

  it('on Node.js 24 audits the copied fixtures', () => {
    const env = { ...BASE_ENV, PATH: [dirname(NODE24), '/usr/bin', '/bin'].join(delimiter) };
    const res = run(join(prefix, 'bin', 'portcullis'), ['audit', '-f', fixtures], env, work);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^DENY +Pod\/shop\/rooty/m);
    expect(res.stdout).toMatch(/^PASS +Deployment\/shop\/web/m);
    const version = run(join(prefix, 'bin', 'portcullis'), ['--version'], env, work);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^portcullis \d+\.\d+\.\d+\ncommit: \S+\n/);
  });
});

describe('single executable', () => {
  // a PATH with no node on it: only the directory holding the executable
  const noNode = () => ({ ...BASE_ENV, PATH: binDir });

  it('runs with no Node.js on PATH and prints version, commit and the Kubernetes range', () => {
    expect(run('/bin/sh', ['-c', 'command -v node'], noNode(), work).code).not.toBe(0);
    for (const args of [['--version'], ['version']]) {
      const res = run(join(binDir, 'portcullis'), args, noNode(), work);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/^portcullis \d+\.\d+\.\d+\n/);
      expect(res.stdout).toMatch(/^commit: [0-9a-f]{7,}(-dirty)?$/m);
      expect(res.stdout).toContain(`kubernetes: ${KUBERNETES_SUPPORTED} (tested with ${KUBERNETES_TESTED})`);
    }
  });

  it('audits the copied fixtures', () => {
    const res = run(join(binDir, 'portcullis'), ['audit', '-f', fixtures, '-o', 'json'], noNode(), work);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(1);
    const doc = JSON.parse(res.stdout) as { results: Array<{ kind: string; name: string; verdict: string }> };
    expect(doc.results.map((r) => `${r.kind}/${r.name}:${r.verdict}`)).toEqual(['Pod/rooty:deny', 'Deployment/web:pass', 'ConfigMap/settings:skipped']);
  });

  it('bundles the Kubernetes client: scan names an API server it cannot reach, with no warning', () => {
    const kubeconfig = join(work, 'kubeconfig');
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: c',
      'clusters: [{ name: c, cluster: { server: "https://127.0.0.1:1", insecure-skip-tls-verify: true } }]',
      'users: [{ name: u, user: { token: x } }]', 'contexts: [{ name: c, context: { cluster: c, user: u } }]',
    ].join('\n'));
    const res = run(join(binDir, 'portcullis'), ['scan', '--no-progress', '--kubeconfig', kubeconfig], noNode(), work);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe('portcullis: cannot reach the API server: connect ECONNREFUSED 127.0.0.1:1\n');
  });

  it.runIf(requireTool('kubectl', haveTools(['kubectl']), 'scripts/go-tools.sh kubernetes (bash .ci/run does it)'))('runs as a kubectl plugin: kubectl portcullis audit -f ...', () => {
    const kubectl = toolPath('kubectl');
    const res = run(kubectl, ['portcullis', 'audit', '-f', join(fixtures, 'bad.yaml')], noNode(), work);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^DENY +Pod\/shop\/rooty/m);
    const help = run(kubectl, ['portcullis', '--help'], noNode(), work);
    expect(help.stdout).toMatch(/^usage: kubectl portcullis <command>/);
  });
});

describe('version', () => {
  it('names the Kubernetes range of the chart and the release the e2e suite runs', () => {
    const chart = readFileSync(join(REPO_ROOT, 'charts', 'portcullis', 'Chart.yaml'), 'utf8');
    expect(chart).toContain(`kubeVersion: "${KUBERNETES_SUPPORTED}"`);
    const tools = readFileSync(join(REPO_ROOT, 'scripts', 'go-tools.sh'), 'utf8');
    expect(tools).toMatch(new RegExp(`^K8S_VERSION=${KUBERNETES_TESTED.replaceAll('.', '\\.')}\\b`, 'm'));
  });
});
