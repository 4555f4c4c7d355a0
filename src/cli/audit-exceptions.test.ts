// `portcullis audit --exceptions`: the same exceptions, checked and applied by the same engine as the webhook.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = `${root}dist/src/cli/main.js`;
const bad = `${root}test/fixtures/manifests/bad.yaml`;
const dir = mkdtempSync(join(tmpdir(), 'portcullis-exceptions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DAY = 86_400_000;
const ALL = ['require-non-root-user', 'require-drop-all-capabilities', 'disallow-latest-tag', 'require-read-only-root-filesystem'];

function exceptionFile(name: string, spec: Record<string, unknown>): string {
  const doc = {
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'PolicyException',
    metadata: { name, namespace: 'portcullis' },
    spec: { policies: ['require-non-root-user'], match: { namespaces: ['shop'], names: ['rooty'] }, reason: 'vendor image', expires: new Date(Date.now() + 30 * DAY).toISOString(), ...spec },
  };
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, stringify(doc));
  return path;
}

function audit(args: string[]) {
  const r = spawnSync(process.execPath, [cli, 'audit', '-f', bad, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('portcullis audit --exceptions', () => {
  it('shows a covered violation as skip with the exception and its expiry, and keeps the rest', () => {
    const r = audit(['--exceptions', exceptionFile('root', {}), '-o', 'json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    const ajv = new Ajv({ allErrors: true, strict: true });
    addFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(`${root}src/audit/schemas/audit-v1.schema.json`, 'utf8')) as Record<string, unknown>);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    const [result] = doc.results;
    expect(result.violations.map((v: { policy: string }) => v.policy)).not.toContain('require-non-root-user');
    expect(result.exceptions).toEqual([expect.objectContaining({ exception: 'portcullis/root', policy: 'require-non-root-user', container: 'app', reason: 'vendor image' })]);
    expect(audit(['--exceptions', exceptionFile('root', {})]).stdout).toMatch(/skip {2}\[require-non-root-user\] .* \(exception portcullis\/root, until /);
  });

  it('passes when exceptions cover every violation, and an expired exception applies nowhere', () => {
    expect(audit(['--exceptions', exceptionFile('all', { policies: ALL })]).code).toBe(0);
    const expired = audit(['--exceptions', exceptionFile('expired', { policies: ALL, expires: new Date(Date.now() - 1000).toISOString() })]);
    expect(expired.code).toBe(1);
    expect(expired.stdout).not.toContain('skip ');
  });

  it('ignores an invalid exception with a warning naming it and why (never a wider reading)', () => {
    const tooLong = audit(['--exceptions', exceptionFile('long', { policies: ALL, expires: new Date(Date.now() + 91 * DAY).toISOString() })]);
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toContain('exception ignored');
    expect(tooLong.stderr).toContain('EXPIRES_TOO_LATE');
    const everything = audit(['--exceptions', exceptionFile('everything', { policies: ALL, match: { namespaces: ['shop'] } })]);
    expect(everything.code).toBe(1);
    expect(everything.stderr).toContain('MATCHES_EVERYTHING');
    expect(audit(['--exceptions', exceptionFile('unknown', { policies: ['no-such-policy'] })]).stderr).toContain('UNKNOWN_POLICY');
    expect(audit(['--exceptions', exceptionFile('reasonless', { reason: '' })]).stderr).toContain('MISSING_REASON');
  });

  it('honours --exception-max-duration and exits 2 on a bad one or a missing file', () => {
    const long = exceptionFile('long2', { policies: ALL, expires: new Date(Date.now() + 100 * DAY).toISOString() });
    expect(audit(['--exceptions', long, '--exception-max-duration', '120d']).code).toBe(0);
    expect(audit(['--exceptions', long, '--exception-max-duration', 'soon']).code).toBe(2);
    expect(audit(['--exceptions', join(dir, 'missing.yaml')]).code).toBe(2);
  });
});
