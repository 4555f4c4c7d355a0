// Authorities compiled from the policy parameters: keys parsed, trusted roots loaded, one Verifier each,
// and a fingerprint that changes whenever anything the verification depends on changes.

import { createHash, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PolicyError, VerificationError, Verifier, type SignedEntity, type VerificationPolicy } from '@sigstore/verify';
import { X509Certificate } from '@sigstore/core';
import { SignatureError } from './errors.js';
import { keyId, parsePublicKey } from './keys.js';
import { paramsProblems, type AuthoritySpec, type SignedImagesParams } from './params.js';
import { keyTrustMaterial, loadTrustedRoot, rootTrustMaterial, type LoadedRoot } from './trust.js';
import type { Candidate } from './candidates.js';

export interface Authority {
  readonly name: string;
  readonly kind: 'key' | 'keyless';
  /** stable id of everything the result depends on (key, identity, root, tlog setting) */
  readonly fingerprint: string;
  /** what it trusts, for messages: 'key sha256:ab12…' or 'issuer X, subject Y' */
  readonly describe: string;
  check(candidate: Candidate): Outcome;
}

/**
 * Why one found signature does not verify for one authority. other-key: it names another key (a bundle's key hint, a
 * certificate); other-identity: a valid certificate of another identity; mismatch: it does not verify with the key
 * and names none (another key, or altered: ECDSA cannot tell); invalid: it names the authority's key or a trusted
 * identity but does not verify (altered, untrusted chain, expired); no-tlog: no transparency log entry;
 * no-certificate: a bare key for a keyless authority.
 */
export type FailureKind = 'other-key' | 'other-identity' | 'mismatch' | 'invalid' | 'no-tlog' | 'no-certificate';

/** The result of trying one found signature against one authority. */
export type Outcome = { readonly ok: true; readonly note: string } | { readonly ok: false; readonly kind: FailureKind; readonly note: string };

export interface CompiledParams {
  readonly authorities: ReadonlyMap<string, Authority>;
  /** problems that make the parameters unusable; verification answers 'error' while there are any */
  readonly problems: readonly string[];
}

const MAX_KEY_FILE = 64 * 1024;

function hash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 24);
}

function readKey(spec: AuthoritySpec, where: string): KeyObject {
  if (spec.key) return parsePublicKey(spec.key, where);
  const path = spec.keyFile as string;
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (err) {
    throw new SignatureError('SIGNATURE_CONFIG_INVALID', `${where}: expected a readable keyFile ${path}, got ${(err as NodeJS.ErrnoException).code ?? 'an error'}`, { cause: err });
  }
  if (text.length > MAX_KEY_FILE) throw new SignatureError('SIGNATURE_CONFIG_INVALID', `${where}: expected a key file of at most ${MAX_KEY_FILE} bytes, got ${text.length}`);
  return parsePublicKey(text.toString('utf8'), where);
}

// Why a verification failed, in a few words.
function reason(err: unknown): string {
  if (err instanceof VerificationError || err instanceof PolicyError) return `${err.message} (${err.code})`;
  return err instanceof Error ? err.message.slice(0, 160) : 'verification failed';
}

// The certificate's subject and issuer, for "valid signature from <who>" messages.
function certIdentity(entity: SignedEntity): string {
  if (entity.key.$case !== 'certificate') return 'a key';
  const cert: X509Certificate = entity.key.certificate;
  const issuerExt = cert.extension('1.3.6.1.4.1.57264.1.8') ?? cert.extension('1.3.6.1.4.1.57264.1.1');
  let issuer: string | undefined;
  try {
    issuer = issuerExt ? (issuerExt.valueObj.subs?.[0]?.value.toString('ascii') ?? issuerExt.value.toString('ascii')) : undefined;
  } catch {
    issuer = undefined;
  }
  return `${cert.subjectAltName ?? 'no subject'}${issuer ? ` (issuer ${issuer})` : ''}`;
}

// When a certificate was not valid at a signing time the entity claims: "certificate valid A to B, signed at T".
function validityProblem(entity: SignedEntity): string | undefined {
  if (entity.key.$case !== 'certificate') return undefined;
  const cert = entity.key.certificate;
  for (const t of entity.timestamps) {
    const at = t.$case === 'transparency-log' ? new Date(Number(t.tlogEntry.integratedTime) * 1000) : t.timestamp.signingTime;
    if (at < cert.notBefore || at > cert.notAfter) {
      return `certificate valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}, signed at ${at.toISOString()} (expired or not yet valid)`;
    }
  }
  return undefined;
}

// A signature that does not verify with the authority's key, by what it names: that key (altered), another key or a
// certificate (another signer), or nothing (a legacy .sig layer: another key or an altered payload, no way to tell).
function signatureMismatch(entity: SignedEntity, hint: string, describe: string): Outcome {
  if (entity.key.$case === 'certificate') return { ok: false, kind: 'other-key', note: `signed with a certificate for ${certIdentity(entity)}, not ${describe}` };
  const named = entity.key.hint;
  if (named === hint) return { ok: false, kind: 'invalid', note: `names ${describe} but does not verify: the signed content was altered` };
  if (named !== '') return { ok: false, kind: 'other-key', note: `signed by another key (its key hint names ${hintName(named)}, not ${describe})` };
  return { ok: false, kind: 'mismatch', note: `does not verify with ${describe}: signed by another key, or its payload was altered` };
}

// A bundle's key hint for messages: 'key sha256:ab12…' when it is a key id, else its first characters.
function hintName(hint: string): string {
  const id = Buffer.from(hint, 'base64');
  return id.length === 32 ? `key sha256:${id.toString('hex').slice(0, 12)}…` : `key ${JSON.stringify(hint.slice(0, 24))}`;
}

function keyAuthority(name: string, spec: AuthoritySpec, root: LoadedRoot | undefined): Authority {
  const key = readKey(spec, `authorities.${name}`);
  const id = keyId(key);
  // the hint cosign v3 writes into bundles: base64 of the key's SPKI sha256
  const hint = Buffer.from(id, 'hex').toString('base64');
  const ignoreTlog = spec.ignoreTlog === true;
  const verifier = new Verifier(keyTrustMaterial(key, ignoreTlog ? undefined : root), {
    tlogThreshold: ignoreTlog ? 0 : 1,
    ctlogThreshold: 0,
    timestampThreshold: 0,
  });
  return {
    name,
    kind: 'key',
    fingerprint: hash('key', id, ignoreTlog ? 'notlog' : `tlog:${root?.hash ?? ''}`),
    describe: `key sha256:${id.slice(0, 12)}…`,
    check(candidate) {
      const entity = candidate.entity as SignedEntity;
      const asKey: SignedEntity = {
        ...entity,
        key: { $case: 'public-key', hint: '' },
        ...(ignoreTlog ? { tlogEntries: [], timestamps: [] } : {}),
      };
      try {
        verifier.verify(asKey);
        return { ok: true, note: `signed by ${this.describe}` };
      } catch (err) {
        if (err instanceof VerificationError && err.code === 'SIGNATURE_ERROR') return signatureMismatch(entity, hint, this.describe);
        if (err instanceof VerificationError && err.code === 'TLOG_ERROR' && entity.tlogEntries.length === 0) {
          return { ok: false, kind: 'no-tlog', note: 'no transparency log entry (the authority does not set ignoreTlog: true)' };
        }
        return { ok: false, kind: 'invalid', note: `does not verify: ${reason(err)}` };
      }
    },
  };
}

function keylessAuthority(name: string, spec: AuthoritySpec, root: LoadedRoot): Authority {
  const id = spec.keyless as NonNullable<AuthoritySpec['keyless']>;
  const san: string | RegExp = id.subject ?? new RegExp(`^(?:${id.subjectRegExp as string})$`);
  const policy: VerificationPolicy = { subjectAlternativeName: san, extensions: { issuer: id.issuer } };
  const verifier = new Verifier(rootTrustMaterial(root), { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
  const wanted = `${id.subject ?? `/${id.subjectRegExp as string}/`} (issuer ${id.issuer})`;
  return {
    name,
    kind: 'keyless',
    fingerprint: hash('keyless', id.issuer, id.subject ?? '', id.subjectRegExp ?? '', root.hash),
    describe: wanted,
    check(candidate) {
      const entity = candidate.entity as SignedEntity;
      if (entity.key.$case !== 'certificate') return { ok: false, kind: 'no-certificate', note: 'signed with a bare key, not a Fulcio certificate' };
      try {
        verifier.verify(entity, policy);
        return { ok: true, note: `signed by ${certIdentity(entity)}` };
      } catch (err) {
        if (err instanceof PolicyError) return { ok: false, kind: 'other-identity', note: `valid signature from ${certIdentity(entity)}, not ${wanted}` };
        const expired = validityProblem(entity);
        if (err instanceof VerificationError && err.code === 'CERTIFICATE_ERROR' && expired) return { ok: false, kind: 'invalid', note: `does not verify: ${expired}` };
        return { ok: false, kind: 'invalid', note: `does not verify: ${reason(err)}` };
      }
    },
  };
}

const compiledCache = new WeakMap<SignedImagesParams, CompiledParams>();

// compileParams once per params object (a config reload brings new objects); problems are reported once.
export function compiledFor(params: SignedImagesParams, onProblem: (problem: string) => void): CompiledParams {
  let c = compiledCache.get(params);
  if (!c) {
    c = compileParams(params);
    compiledCache.set(params, c);
    for (const p of c.problems) onProblem(p);
  }
  return c;
}

// Compiles every authority; problems (bad PEM, unreadable trusted root) are collected, not thrown.
export function compileParams(params: SignedImagesParams): CompiledParams {
  const problems = paramsProblems(params);
  const authorities = new Map<string, Authority>();
  const roots = new Map<string, LoadedRoot>();
  const rootFor = (path: string): LoadedRoot => {
    let r = roots.get(path);
    if (!r) {
      r = loadTrustedRoot(path);
      roots.set(path, r);
    }
    return r;
  };
  for (const [name, spec] of Object.entries(params.authorities)) {
    try {
      const rootPath = spec.trustedRoot ?? (params.trustedRoot || undefined);
      if (spec.keyless) {
        if (!rootPath) continue; // reported by paramsProblems
        authorities.set(name, keylessAuthority(name, spec, rootFor(rootPath)));
      } else {
        authorities.set(name, keyAuthority(name, spec, rootPath && spec.ignoreTlog !== true ? rootFor(rootPath) : undefined));
      }
    } catch (err) {
      problems.push(err instanceof SignatureError ? err.message : `authorities.${name}: ${err instanceof Error ? err.message : 'invalid'}`);
    }
  }
  return { authorities, problems };
}
