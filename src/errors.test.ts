import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PortcullisError } from './errors.js';
import { AdmissionError, decodeReview } from './admission/review.js';
import { RegistryError } from './images/errors.js';
import { BodyError, parseJsonBody } from './server/json.js';
import { ImageReferenceError, parseReference } from './images/reference.js';
import { WorkloadError } from './workload/k8s.js';
import { PolicyListError } from './engine/registry.js';
import { ConfigError, parseConfig } from './config/load.js';

// What fn throws (the test fails when it returns).
function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('errors', () => {
  it('share one base class with a typed code and their own name', () => {
    const ref = caught(() => parseReference('Nginx:1'));
    expect(ref).toBeInstanceOf(ImageReferenceError);
    expect(ref).toBeInstanceOf(PortcullisError);
    expect(ref).toMatchObject({ code: 'REFERENCE_UPPERCASE', name: 'ImageReferenceError' });
    expect(ref).not.toBeInstanceOf(globalThis.ReferenceError);
    const config = caught(() => parseConfig('mode: x\n'));
    expect(config).toBeInstanceOf(ConfigError);
    expect(config).toMatchObject({ code: 'CONFIG_INVALID', name: 'ConfigError' });
    expect(new WorkloadError('spec', 'object', 1)).toMatchObject({ code: 'INVALID_FIELD', name: 'WorkloadError', message: 'spec: expected object, got number' });
    expect(new PolicyListError('x')).toMatchObject({ code: 'POLICY_LIST_INVALID', name: 'PolicyListError' });
  });

  it('are all of that class: no class under src/ or policies/ extends Error itself', () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..');
    const files = ['src', 'policies'].flatMap((dir) =>
      readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
        .map((f) => join(root, dir, f)),
    );
    const direct = files.flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/class (\w+)(?:<[^>]*>)? extends Error\b/g)].map((m) => `${relative(root, file)}: ${m[1]}`),
    );
    expect(direct).toEqual(['src/errors.ts: PortcullisError']);
    expect(caught(() => decodeReview({ kind: 'Pod' }))).toMatchObject({ code: 'NOT_ADMISSION_REVIEW', name: 'AdmissionError' });
    expect(caught(() => parseJsonBody(Buffer.from('{')))).toMatchObject({ code: 'INVALID_JSON', name: 'BodyError', statusCode: 400 });
    expect(new RegistryError('REGISTRY_TIMEOUT', 'x')).toMatchObject({ code: 'REGISTRY_TIMEOUT', name: 'RegistryError', transient: true });
    for (const err of [new AdmissionError('MISSING_UID', 'x'), new BodyError('JSON_TOO_DEEP', 'x'), new RegistryError('DIGEST_MISMATCH', 'x')]) {
      expect(err).toBeInstanceOf(PortcullisError);
    }
  });
});
