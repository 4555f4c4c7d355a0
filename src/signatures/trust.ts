// Sigstore trusted roots (trusted_root.json, read from a file) turned into @sigstore/verify trust material.

import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial, type TrustMaterial } from '@sigstore/verify';
import { SignatureError } from './errors.js';

export interface LoadedRoot {
  readonly path: string;
  /** sha256 of the file content: part of every cache key that depends on it */
  readonly hash: string;
  readonly root: TrustedRoot;
}

const roots = new Map<string, { mtimeMs: number; size: number; loaded: LoadedRoot }>();
const MAX_ROOT_BYTES = 1024 * 1024;

// Reads and parses a trusted_root.json; re-reads it when its mtime or size changed.
export function loadTrustedRoot(path: string): LoadedRoot {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new SignatureError('TRUSTED_ROOT_INVALID', `trustedRoot ${path}: expected a readable file, got ${(err as NodeJS.ErrnoException).code ?? 'an error'}`, { cause: err });
  }
  const cached = roots.get(path);
  if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached.loaded;
  if (st.size > MAX_ROOT_BYTES) throw new SignatureError('TRUSTED_ROOT_INVALID', `trustedRoot ${path}: expected at most ${MAX_ROOT_BYTES} bytes, got ${st.size}`);
  const text = readFileSync(path);
  let root: TrustedRoot;
  try {
    root = TrustedRoot.fromJSON(JSON.parse(text.toString('utf8')));
  } catch (err) {
    throw new SignatureError('TRUSTED_ROOT_INVALID', `trustedRoot ${path}: expected a Sigstore trusted_root.json, got ${err instanceof Error ? err.message.slice(0, 120) : 'invalid JSON'}`, { cause: err });
  }
  if (root.certificateAuthorities.length === 0 && root.tlogs.length === 0) {
    throw new SignatureError('TRUSTED_ROOT_INVALID', `trustedRoot ${path}: expected certificate authorities or transparency logs, got neither`);
  }
  const loaded: LoadedRoot = { path, hash: createHash('sha256').update(text).digest('hex').slice(0, 16), root };
  roots.set(path, { mtimeMs: st.mtimeMs, size: st.size, loaded });
  return loaded;
}

const EMPTY_ROOT = TrustedRoot.fromJSON({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] });

// Trust material for a key authority: the key itself for every hint, plus the root's logs when one is given.
export function keyTrustMaterial(key: KeyObject, root?: LoadedRoot): TrustMaterial {
  return toTrustMaterial(root?.root ?? EMPTY_ROOT, () => ({ publicKey: key, validFor: () => true }));
}

// Trust material for a keyless authority: Fulcio CAs, CT logs, Rekor and TSAs of the root; no bare keys.
export function rootTrustMaterial(root: LoadedRoot): TrustMaterial {
  return toTrustMaterial(root.root, (hint: string) => {
    throw new SignatureError('SIGNATURE_MALFORMED', `expected a certificate, got a public-key signature (hint ${hint.slice(0, 40)})`);
  });
}
