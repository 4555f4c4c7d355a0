import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { POLICIES } from '../../policies/index.js';
import { PolicyTestError, readTestFile, testFilePaths } from './files.js';
import { runPolicyTests } from './run.js';
import { formatTestJunit, formatTestTable } from './format.js';

const run = (paths: string[]) => runPolicyTests(testFilePaths(paths).flatMap(readTestFile), POLICIES);

function tmpTest(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-test-'));
  writeFileSync(join(dir, 'case.yaml'), text);
  return dir;
}

const POD = `{ apiVersion: v1, kind: Pod, metadata: { name: p, namespace: default }, spec: { containers: [{ name: app, image: nginx:1.27, securityContext: { privileged: true } }] } }`;

describe('portcullis test', () => {
  it('the custom-policy examples meet every expectation', async () => {
    const results = await run(['examples/custom-policies/tests']);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(14);
  });

  it('takes settings for custom ids in policies:, and refuses an id no policy has, naming it', async () => {
    const results = await run(['examples/custom-policies/tests']);
    expect(results.find((r) => r.case.startsWith('the same pod where this cluster') && r.policy === 'limit-container-memory')).toMatchObject({ got: 'pass', ok: true });
    const dir = tmpTest(`apiVersion: portcullis.dev/v1alpha1
kind: PolicyTest
config: ${join(process.cwd(), 'examples/custom-policies/config.yaml')}
policies: { limit-memory: { maxMemory: 8Gi } }
cases:
  - name: typo
    resource: ${POD}
    expect: { disallow-privileged: fail }
`);
    await expect(run([dir])).rejects.toThrow(/expected a built-in or declared custom policy id, got "limit-memory"/);
  });

  it('the built-in policies fixtures, as test files, meet every expectation', async () => {
    const results = await run(['examples/builtin-fixtures']);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(new Set(results.map((r) => r.policy)).size).toBe(POLICIES.filter((p) => p.facts.length === 0).length);
  });

  it('reports a mismatch of verdict or message, with the policy messages, in the table and JUnit', async () => {
    const dir = tmpTest(`apiVersion: portcullis.dev/v1alpha1
kind: PolicyTest
policies: { disallow-privileged: { action: deny } }
cases:
  - name: privileged
    resource: ${POD}
    expect:
      disallow-privileged: pass
      disallow-host-path: { verdict: fail, message: hostPath }
      restrict-volume-types: skip
  - name: right
    resource: ${POD}
    expect: { disallow-privileged: { verdict: fail, message: runs privileged } }
`);
    const results = await run([dir]);
    expect(results.map((r) => [r.case, r.policy, r.got, r.ok])).toEqual([
      ['privileged', 'disallow-privileged', 'fail', false],
      ['privileged', 'disallow-host-path', 'pass', false],
      ['privileged', 'restrict-volume-types', 'skip', true],
      ['right', 'disallow-privileged', 'fail', true],
    ]);
    const table = formatTestTable(results);
    expect(table).toContain('MISMATCH');
    expect(table).toContain('[disallow-privileged] container "app" (containers[0]): runs privileged');
    expect(table).toContain('2 of 4 expectations met, 2 mismatched');
    const junit = formatTestJunit(results);
    expect(junit).toContain('<testsuites name="portcullis test" tests="4" failures="2">');
    expect(junit).toContain('message="expected pass, got fail"');
  });

  it('refuses a malformed test file with its code', () => {
    const dir = tmpTest('apiVersion: portcullis.dev/v1alpha1\nkind: PolicyTest\ncases: [{ name: x, resource: {}, expect: { a: maybe } }]\n');
    expect(() => testFilePaths([dir]).flatMap(readTestFile)).toThrowError(expect.objectContaining({ code: 'POLICY_TEST_INVALID' }) as Error);
    expect(() => testFilePaths(['/nonexistent-path'])).toThrowError(PolicyTestError);
  });
});
