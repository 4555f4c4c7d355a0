// No suite skips itself quietly: a missing tool goes through requireTool (fails under CI=true), and runIf is
// only for requireTool or an explicit PORTCULLIS_* opt-in (measurements, scale runs).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'golden' ? [] : testFiles(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const files = ['test', 'src', 'policies'].flatMap((d) => testFiles(join(ROOT, d)));

describe('test suites', () => {
  it('are found', () => expect(files.length).toBeGreaterThan(20));

  it('use no skip, skipIf or todo', () => {
    const offenders = files.filter((f) => /\b(describe|it|test)\.(skip|skipIf|todo)\b/.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('gate runIf on requireTool or a PORTCULLIS_* opt-in', () => {
    const offenders = files.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter((line) => /\.runIf\(/.test(line) && !/requireTool\(|process\.env\.PORTCULLIS_|\.runIf\((runnable|provided|wired)\)/.test(line))
        .map((line) => `${relative(ROOT, f)}: ${line.trim()}`),
    );
    expect(offenders).toEqual([]);
  });
});
