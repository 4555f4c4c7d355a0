// The Dockerfile follows the container standards portcullis enforces (checked on the file: no Docker engine here).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execForm, readDockerfile, REPO_ROOT } from './dockerfile.js';
import { dockerignore } from './mini-build.js';

const { stages } = readDockerfile();
const runtime = stages.at(-1)!;
const of = (keyword: string) => runtime.instructions.filter((i) => i.keyword === keyword);

describe('Dockerfile', () => {
  it('is multi-stage: an official Node 24 image builds, distroless nodejs24 :nonroot runs', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages.slice(0, -1)) expect(s.from).toMatch(/^node:24[-.\w]*@/);
    expect(runtime.from).toMatch(/^gcr\.io\/distroless\/nodejs24-debian\d+:nonroot@/);
  });

  it('pins every FROM by digest (tag kept for readability)', () => {
    for (const s of stages) expect(s.from).toMatch(/^[^@\s]+:[\w.-]+@sha256:[a-f0-9]{64}$/);
  });

  it('caches dependency layers before sources, with a BuildKit cache mount for npm', () => {
    for (const s of stages.slice(0, -1)) {
      const ins = s.instructions;
      const manifests = ins.findIndex((i) => i.keyword === 'COPY' && /package-lock\.json/.test(i.args));
      const install = ins.findIndex((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
      const sources = ins.findIndex((i) => i.keyword === 'COPY' && /\bsrc\b/.test(i.args));
      expect(manifests).toBeGreaterThanOrEqual(0);
      expect(install).toBeGreaterThan(manifests);
      if (sources >= 0) expect(sources).toBeGreaterThan(install);
      expect(ins[install]!.args).toMatch(/--mount=type=cache,target=\/root\/\.npm/);
    }
  });

  it('puts only production files in the runtime stage: npm ci --omit=dev output, dist/, package.json', () => {
    const copies = of('COPY').map((c) => c.args);
    expect(copies).toHaveLength(3);
    const byTarget = Object.fromEntries(copies.map((c) => [c.split(/\s+/).at(-1), c]));
    const deps = /--from=(\S+)\s+\/app\/node_modules/.exec(byTarget['./node_modules'] ?? '')?.[1];
    const depsStage = stages.find((s) => s.name === deps);
    expect(depsStage?.instructions.some((i) => i.keyword === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args))).toBe(true);
    expect(byTarget['./dist']).toMatch(/^--from=\S+\s+\/app\/dist\s/);
    expect(byTarget['./']).toBe('package.json ./');
    expect(of('ADD')).toHaveLength(0);
  });

  it('runs no shell in the runtime stage (no RUN; exec-form ENTRYPOINT, CMD and HEALTHCHECK)', () => {
    expect(of('RUN')).toHaveLength(0);
    const entrypoint = execForm(of('ENTRYPOINT')[0]!.args);
    expect(entrypoint).toEqual(['/nodejs/bin/node', '/app/dist/src/cli/main.js']);
    expect(execForm(of('CMD')[0]!.args)?.[0]).toBe('serve');
  });

  it('runs as the numeric non-root user 65532', () => {
    const users = of('USER');
    expect(users).toHaveLength(1);
    expect(users[0]!.args).toMatch(/^65532(:65532)?$/);
    // nothing after USER could re-enable root
    expect(runtime.instructions.slice(runtime.instructions.indexOf(users[0]!) + 1).some((i) => i.keyword === 'USER')).toBe(false);
  });

  it('writes nothing to the root filesystem at run time: generated certificates go to /tmp', () => {
    expect(of('VOLUME')).toHaveLength(0);
    const cmd = execForm(of('CMD')[0]!.args)!;
    expect(cmd[cmd.indexOf('--cert-dir') + 1]).toMatch(/^\/tmp\//);
  });

  it('has a HEALTHCHECK that needs no shell: node GETs https://127.0.0.1:8443/healthz', () => {
    const hc = of('HEALTHCHECK');
    expect(hc).toHaveLength(1);
    expect(hc[0]!.args).toMatch(/^(--\S+\s+)*CMD\s+\[/);
    const argv = execForm(hc[0]!.args)!;
    expect(argv[0]).toBe('/nodejs/bin/node');
    expect(argv[1]).toBe('-e');
    expect(argv[2]).toMatch(/host:'127\.0\.0\.1',port:8443,path:'\/healthz'/);
    expect(of('EXPOSE')[0]?.args).toBe('8443');
  });

  it('carries OCI labels for source, revision and version from build arguments', () => {
    const args = new Set(of('ARG').map((a) => a.args.split('=')[0]));
    const labels = of('LABEL').map((l) => l.args).join(' ');
    for (const [label, arg] of [
      ['source', 'SOURCE'],
      ['revision', 'REVISION'],
      ['version', 'VERSION'],
    ] as const) {
      expect(labels).toContain(`org.opencontainers.image.${label}="\${${arg}}"`);
      expect(args.has(arg)).toBe(true);
    }
  });

  it('has a .dockerignore that lets in exactly what the Dockerfile copies', () => {
    const ignored = dockerignore(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'));
    for (const p of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src/cli/main.ts', 'src/certs/manager.ts', 'policies/index.ts']) {
      expect(ignored(p), p).toBe(false);
    }
    for (const p of ['node_modules/fastify/package.json', 'dist/src/cli/main.js', '.git/HEAD', 'test/packaging/dockerfile.test.ts', 'src/cli/audit.test.ts', 'charts/portcullis/Chart.yaml', '.env', 'README.md']) {
      expect(ignored(p), p).toBe(true);
    }
  });
});
