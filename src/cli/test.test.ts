// `portcullis test` through the built CLI, with config overrides.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = `${root}dist/src/cli/main.js`;
const tests = `${root}examples/custom-policies/tests`;

function test(args: string[]) {
  const r = spawnSync(process.execPath, [cli, 'test', tests, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('portcullis test', () => {
  it('meets the examples, and applies --set and --policy to custom policies under the files own settings', () => {
    expect(test([]).code).toBe(0);
    const raised = test(['--set', 'limit-container-memory.maxMemory=16Gi']);
    expect(raised.code).toBe(1);
    expect(raised.stdout).toMatch(/MISMATCH.*too much memory/);
    // the case that sets maxMemory: 16Gi itself still passes at a lower --set budget
    const lowered = test(['--set', 'limit-container-memory.maxMemory=1Gi']);
    expect(lowered.stdout).toContain('memory limit 8Gi is above 1Gi');
    expect(lowered.stdout).toMatch(/^ok +\S+ +the same pod where this cluster's budget is raised/m);
    const off = test(['--policy', 'require-job-ttl=off']);
    expect(off.code).toBe(1);
    expect(off.stdout).toContain('require-job-ttl');
  });

  it('refuses an override of an id no policy has, naming it and the flag', () => {
    const r = test(['--policy', 'limit-memory=warn']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('with --policy limit-memory=warn');
    expect(r.stderr).toContain('got "limit-memory"');
  });
});
