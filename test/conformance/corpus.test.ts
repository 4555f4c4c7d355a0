// The vendored conformance corpus is complete: every file cases.json names, each source's licence, the PSA profiles.
import { CORPUS } from './corpus.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';


interface CaseFiles {
  file: string;
  constraint?: string;
}

// Files in one PSA profile folder (pass or fail).
function psaFixtures(profile: string, verdict: 'pass' | 'fail'): string[] {
  const dir = new URL(`psa/test/testdata/${profile}/v1.37/${verdict}/`, CORPUS);
  return readdirSync(dir).filter((name) => name.endsWith('.yaml'));
}

describe('vendored conformance corpus', () => {
  it('holds every file cases.json refers to', () => {
    const cases = JSON.parse(readFileSync(new URL('cases.json', CORPUS), 'utf8')) as CaseFiles[];
    expect(cases).toHaveLength(559);
    const referenced = new Set(cases.flatMap((c) => (c.constraint ? [c.file, c.constraint] : [c.file])));
    const missing = [...referenced].filter((file) => !existsSync(new URL(file, CORPUS)));
    expect(missing).toEqual([]);
  });

  it('carries each upstream licence and the origins README', () => {
    for (const file of ['README.md', 'psa/LICENSE', 'kyverno/LICENSE', 'gatekeeper/LICENSE', 'gatekeeper/NOTICE']) {
      expect(existsSync(new URL(file, CORPUS)), file).toBe(true);
    }
    const readme = readFileSync(new URL('README.md', CORPUS), 'utf8');
    expect(readme).toContain('8f84a87c7f617f64a4ddc1aea24aeeb7a2e07cb8');
    expect(readme).toContain('b9c4317ce02256dc66118e08bb3e9345e7bfce5c');
    expect(readme).toContain('5c441fb645f257b2c428fe9aea22da24a94b5bab');
  });

  it('holds the full PSA baseline and restricted v1.37 profiles', () => {
    expect([psaFixtures('baseline', 'pass').length, psaFixtures('baseline', 'fail').length]).toEqual([15, 34]);
    expect([psaFixtures('restricted', 'pass').length, psaFixtures('restricted', 'fail').length]).toEqual([23, 76]);
  });
});
