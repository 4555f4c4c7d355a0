// Signatures found in a registry, turned into @sigstore/verify SignedEntities: cosign's legacy simple-signing
// layers (sha256-<hex>.sig) and Sigstore bundles (OCI referrers). Binding to the image digest is checked here.

import { createHash } from 'node:crypto';
import { bundleFromJSON, type Bundle, type TransparencyLogEntry } from '@sigstore/bundle';
import { RFC3161Timestamp, X509Certificate, crypto as score, dsse, pem } from '@sigstore/core';
import { toSignedEntity, type SignedEntity } from '@sigstore/verify';
import { verifyWithKey } from './keys.js';
import { isObject } from '../workload/k8s.js';

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const BUNDLE_MEDIA_TYPES: ReadonlySet<string> = new Set([BUNDLE_MEDIA_TYPE, 'application/vnd.dev.sigstore.bundle+json;version=0.3']);
export const ANNOTATIONS = {
  signature: 'dev.cosignproject.cosign/signature',
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  bundle: 'dev.sigstore.cosign/bundle',
  rfc3161: 'dev.sigstore.cosign/rfc3161timestamp',
} as const;
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const INTOTO_STATEMENT_TYPES: ReadonlySet<string> = new Set(['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1']);
const COSIGN_PAYLOAD_TYPE = 'cosign container image signature';

export type CandidateSource = 'referrers' | 'sig-tag';

/** One signature found for an image, ready to be tried against each authority. */
export interface Candidate {
  readonly source: CandidateSource;
  /** where it was found, for messages: "referrer sha256:ab12…" or "sha256-<hex>.sig layer 0" */
  readonly where: string;
  /** set when the signature cannot count for this image whatever the authority (other digest, malformed) */
  readonly defect?: string;
  readonly entity?: SignedEntity;
  /** the docker-reference a legacy payload names */
  readonly reference?: string;
}

function defect(source: CandidateSource, where: string, reason: string): Candidate {
  return { source, where, defect: reason };
}

// Abbreviates a digest for messages: sha256:3f1c2a9b7e4d…
export function shortDigest(digest: string): string {
  const [alg, hex = ''] = digest.split(':');
  return `${alg}:${hex.slice(0, 12)}…`;
}

// Wraps signature content so the signature check uses the digest the key type calls for (P-384: SHA-384, Ed25519: none).
function withKeyAwareCheck(entity: SignedEntity, signedBytes: () => Buffer, preferred?: string): SignedEntity {
  const content = entity.signature;
  return {
    ...entity,
    signature: {
      signature: content.signature,
      compareSignature: (s) => content.compareSignature(s),
      compareDigest: (d) => content.compareDigest(d),
      compareSignedDigest: (d) => content.compareSignedDigest(d),
      verifySignature: (key) => verifyWithKey(key, signedBytes(), content.signature, preferred),
    },
  };
}

// A Rekor bundle annotation ({SignedEntryTimestamp, Payload{body, integratedTime, logIndex, logID}}) as a tlog entry.
function rekorBundleEntry(text: string): TransparencyLogEntry {
  const doc: unknown = JSON.parse(text);
  if (!isObject(doc) || typeof doc.SignedEntryTimestamp !== 'string' || !isObject(doc.Payload)) throw new Error('expected {SignedEntryTimestamp, Payload}');
  const p = doc.Payload;
  if (typeof p.body !== 'string' || typeof p.integratedTime !== 'number' || typeof p.logIndex !== 'number' || typeof p.logID !== 'string') {
    throw new Error('expected Payload {body, integratedTime, logIndex, logID}');
  }
  const body = Buffer.from(p.body, 'base64');
  const parsed: unknown = JSON.parse(body.toString('utf8'));
  if (!isObject(parsed) || typeof parsed.kind !== 'string' || typeof parsed.apiVersion !== 'string') throw new Error('expected a Rekor entry body with kind and apiVersion');
  return {
    logIndex: String(p.logIndex),
    logId: { keyId: Buffer.from(p.logID, 'hex') },
    kindVersion: { kind: parsed.kind, version: parsed.apiVersion },
    integratedTime: String(p.integratedTime),
    inclusionPromise: { signedEntryTimestamp: Buffer.from(doc.SignedEntryTimestamp, 'base64') },
    inclusionProof: undefined,
    canonicalizedBody: body,
  };
}

// A legacy cosign signature layer: simple-signing payload bytes plus the layer's annotations.
export function legacyCandidate(where: string, payload: Buffer, annotations: Readonly<Record<string, string>>, digest: string): Candidate {
  const source: CandidateSource = 'sig-tag';
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch {
    return defect(source, where, 'payload is not JSON');
  }
  const critical = isObject(doc) && isObject(doc.critical) ? doc.critical : undefined;
  const image = critical && isObject(critical.image) ? critical.image : undefined;
  const signed = image?.['docker-manifest-digest'];
  if (!critical || critical.type !== COSIGN_PAYLOAD_TYPE || typeof signed !== 'string') {
    return defect(source, where, 'payload is not a cosign simple-signing payload');
  }
  if (signed !== digest) return defect(source, where, `signature over another digest (${shortDigest(signed)})`);
  const identity = isObject(critical.identity) ? critical.identity['docker-reference'] : undefined;
  const sigText = annotations[ANNOTATIONS.signature];
  if (!sigText) return defect(source, where, `no ${ANNOTATIONS.signature} annotation`);
  const signature = Buffer.from(sigText, 'base64');
  const payloadDigest = createHash('sha256').update(payload).digest();
  let key: SignedEntity['key'] = { $case: 'public-key', hint: '' };
  const certPem = annotations[ANNOTATIONS.certificate];
  if (certPem) {
    try {
      key = { $case: 'certificate', certificate: X509Certificate.parse(pem.toDER(certPem)) };
    } catch {
      return defect(source, where, 'certificate annotation is not a PEM certificate');
    }
  }
  const tlogEntries: TransparencyLogEntry[] = [];
  const timestamps: SignedEntity['timestamps'] = [];
  const rekor = annotations[ANNOTATIONS.bundle];
  if (rekor) {
    try {
      const entry = rekorBundleEntry(rekor);
      tlogEntries.push(entry);
      timestamps.push({ $case: 'transparency-log', tlogEntry: entry });
    } catch (err) {
      return defect(source, where, `Rekor bundle annotation: ${err instanceof Error ? err.message : 'invalid'}`);
    }
  }
  const tsa = annotations[ANNOTATIONS.rfc3161];
  if (tsa) {
    try {
      const t: unknown = JSON.parse(tsa);
      if (isObject(t) && typeof t.SignedRFC3161Timestamp === 'string') {
        timestamps.push({ $case: 'timestamp-authority', timestamp: RFC3161Timestamp.parse(Buffer.from(t.SignedRFC3161Timestamp, 'base64')) });
      }
    } catch {
      return defect(source, where, 'RFC 3161 timestamp annotation is invalid');
    }
  }
  const entity: SignedEntity = {
    signature: {
      signature,
      compareSignature: (s) => score.bufferEqual(s, signature),
      compareDigest: (d) => score.bufferEqual(d, payloadDigest),
      compareSignedDigest: (d) => score.bufferEqual(d, payloadDigest),
      verifySignature: (k) => verifyWithKey(k, payload, signature),
    },
    key,
    tlogEntries,
    timestamps,
  };
  return { source, where, entity, ...(typeof identity === 'string' ? { reference: identity } : {}) };
}

// A Sigstore bundle from a referrer layer: a DSSE envelope whose in-toto statement names the image digest.
export function bundleCandidate(where: string, bytes: Buffer, digest: string): Candidate {
  const source: CandidateSource = 'referrers';
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(JSON.parse(bytes.toString('utf8')));
  } catch (err) {
    return defect(source, where, `not a valid Sigstore bundle (${err instanceof Error ? err.message.slice(0, 100) : 'invalid'})`);
  }
  if (bundle.content.$case !== 'dsseEnvelope') return defect(source, where, 'bundle holds a message signature, which cannot name an image digest');
  const env = bundle.content.dsseEnvelope;
  if (env.payloadType !== INTOTO_PAYLOAD_TYPE) return defect(source, where, `DSSE payload type is "${env.payloadType.slice(0, 60)}", not in-toto`);
  if (env.signatures.length !== 1) return defect(source, where, `expected one DSSE signature, got ${env.signatures.length}`);
  let statement: unknown;
  try {
    statement = JSON.parse(env.payload.toString('utf8'));
  } catch {
    return defect(source, where, 'in-toto statement is not JSON');
  }
  if (!isObject(statement) || typeof statement._type !== 'string' || !INTOTO_STATEMENT_TYPES.has(statement._type) || !Array.isArray(statement.subject)) {
    return defect(source, where, 'payload is not an in-toto statement');
  }
  if (statement.predicateType !== COSIGN_SIGN_PREDICATE) {
    return defect(source, where, `an attestation (${String(statement.predicateType).slice(0, 80)}), not a signature`);
  }
  const [alg, hex] = digest.split(':') as [string, string];
  const subjects = statement.subject.filter(isObject);
  if (!subjects.some((s) => isObject(s.digest) && s.digest[alg] === hex)) {
    const other = subjects.map((s) => (isObject(s.digest) && typeof s.digest[alg] === 'string' ? `${alg}:${s.digest[alg]}` : '')).find(Boolean);
    return defect(source, where, other ? `signature over another digest (${shortDigest(other)})` : 'statement names no image digest');
  }
  try {
    const entity = withKeyAwareCheck(toSignedEntity(bundle), () => dsse.preAuthEncoding(env.payloadType, env.payload));
    return { source, where, entity };
  } catch (err) {
    return defect(source, where, `bundle verification material is invalid (${err instanceof Error ? err.message.slice(0, 100) : 'invalid'})`);
  }
}
