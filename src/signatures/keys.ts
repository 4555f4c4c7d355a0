// Public keys of key authorities: PEM parsing, the supported types, and the hashes a signature may use.

import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { SignatureError } from './errors.js';

const CURVE_HASH: Record<string, string> = { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' };

// Parses a PEM public key; throws SIGNATURE_CONFIG_INVALID unless it is ECDSA P-256/P-384/P-521, RSA (>= 2048) or Ed25519.
export function parsePublicKey(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new SignatureError('SIGNATURE_CONFIG_INVALID', `${where}: expected a PEM public key, got unparsable text`, { cause: err });
  }
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
    if (!CURVE_HASH[curve]) throw new SignatureError('SIGNATURE_CONFIG_INVALID', `${where}: expected an ECDSA P-256/P-384/P-521 key, got curve ${curve || 'unknown'}`);
  } else if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new SignatureError('SIGNATURE_CONFIG_INVALID', `${where}: expected an RSA key of at least 2048 bits, got ${bits}`);
  } else if (type !== 'ed25519') {
    throw new SignatureError('SIGNATURE_CONFIG_INVALID', `${where}: expected an ECDSA, RSA or Ed25519 public key, got ${type ?? 'unknown'}`);
  }
  return key;
}

// The digest algorithms a signature by this key may use (cosign signs with SHA-256, or the curve's hash), null for Ed25519.
export function hashesFor(key: KeyObject, preferred?: string): Array<string | null> {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return [null];
  const own = type === 'ec' ? (CURVE_HASH[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? 'sha256') : 'sha256';
  return [...new Set([preferred ?? own, own, 'sha256'])];
}

// Verifies a signature over data with the key, trying the digest algorithms the key type allows.
export function verifyWithKey(key: KeyObject, data: Buffer, signature: Buffer, preferred?: string): boolean {
  for (const hash of hashesFor(key, preferred)) {
    try {
      if (cryptoVerify(hash, data, key, signature)) return true;
    } catch {
      // wrong encoding for this key type: not a valid signature
    }
  }
  return false;
}

// A short stable id of a key: sha256 of its SPKI DER.
export function keyId(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
}
