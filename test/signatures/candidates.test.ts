// Parsing of untrusted signature material never throws: garbage becomes a defect that no authority accepts.

import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ANNOTATIONS, bundleCandidate, legacyCandidate } from '../../src/signatures/candidates.js';
import { compileParams } from '../../src/signatures/authority.js';
import { SIGNED_IMAGES_DEFAULTS } from '../../policies/require-signed-images/params.js';
import { keyPair, simpleSigningPayload, signBytes } from '../helpers/cosign-format.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('signature candidates from untrusted bytes', () => {
  it('turn arbitrary payloads and annotations into defects or entities, never exceptions', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.dictionary(fc.constantFrom(...Object.values(ANNOTATIONS)), fc.string({ maxLength: 200 })), (bytes, annotations) => {
        const c = legacyCandidate('x', Buffer.from(bytes), annotations, DIGEST);
        expect(c.defect !== undefined || c.entity !== undefined).toBe(true);
        const b = bundleCandidate('x', Buffer.from(bytes), DIGEST);
        expect(b.defect).toBeDefined();
      }),
      { numRuns: 300 },
    );
  });

  it('reject malformed certificate, Rekor bundle and timestamp annotations', () => {
    const kp = keyPair();
    const payload = simpleSigningPayload('r.example.com/app', DIGEST);
    const signature = signBytes(kp.privateKey, payload).toString('base64');
    const base = { [ANNOTATIONS.signature]: signature };
    expect(legacyCandidate('x', payload, base, DIGEST).entity).toBeDefined();
    expect(legacyCandidate('x', payload, { ...base, [ANNOTATIONS.certificate]: 'not a cert' }, DIGEST).defect).toMatch(/certificate/);
    expect(legacyCandidate('x', payload, { ...base, [ANNOTATIONS.bundle]: '{"Payload":{}}' }, DIGEST).defect).toMatch(/Rekor/);
    expect(legacyCandidate('x', payload, { ...base, [ANNOTATIONS.rfc3161]: '{"SignedRFC3161Timestamp":"AAAA"}' }, DIGEST).defect).toMatch(/RFC 3161/);
    expect(legacyCandidate('x', payload, {}, DIGEST).defect).toMatch(/annotation/);
  });

  it('verify a good candidate; for another key, a legacy signature (which names no key) is a mismatch, not proof of another signer', () => {
    const kp = keyPair();
    const payload = simpleSigningPayload('r.example.com/app', DIGEST);
    const c = legacyCandidate('x', payload, { [ANNOTATIONS.signature]: signBytes(kp.privateKey, payload).toString('base64') }, DIGEST);
    const compiled = compileParams({ ...SIGNED_IMAGES_DEFAULTS, authorities: { a: { key: kp.publicPem, ignoreTlog: true }, b: { key: keyPair().publicPem, ignoreTlog: true } }, images: [] });
    expect(compiled.problems).toEqual([]);
    expect(compiled.authorities.get('a')?.check(c)).toMatchObject({ ok: true });
    expect(compiled.authorities.get('b')?.check(c)).toMatchObject({ ok: false, kind: 'mismatch' });
  });

  it('refuse keys that are too weak or of other types', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const problems = compileParams({ ...SIGNED_IMAGES_DEFAULTS, authorities: { weak: { key: weak, ignoreTlog: true } }, images: [] }).problems;
    expect(problems.join()).toMatch(/at least 2048 bits/);
  });
});
