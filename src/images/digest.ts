// Content digests: format checks and verification of fetched bytes.

import { createHash } from 'node:crypto';
import { RegistryError } from './errors.js';

const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

// Whether s is a sha256/sha512 digest in canonical (lowercase hex) form.
export function isDigest(s: string | undefined): boolean {
  return typeof s === 'string' && DIGEST_RE.test(s);
}

// The same check narrowing an untrusted value.
export function isDigestValue(s: unknown): s is string {
  return typeof s === 'string' && DIGEST_RE.test(s);
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

// Digest of bytes with the same algorithm as `like` (sha256 or sha512).
export function digestOf(bytes: Uint8Array, like: string): string {
  const algorithm = like.startsWith('sha512:') ? 'sha512' : 'sha256';
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

// Checks the bytes hash to `expected`; throws DIGEST_MISMATCH otherwise.
export function verifyDigest(bytes: Uint8Array, expected: string, registry: string, what: string): void {
  if (!isDigest(expected)) {
    throw new RegistryError('INVALID_MANIFEST', `${registry}: expected a sha256/sha512 digest for ${what}, got "${expected.slice(0, 80)}"`, { registry });
  }
  const actual = digestOf(bytes, expected);
  if (actual !== expected) {
    throw new RegistryError('DIGEST_MISMATCH', `${registry}: ${what} expected digest ${expected}, got ${actual}`, { registry });
  }
}
