// Signatures and attestations found in a registry, turned into @sigstore/verify SignedEntities: cosign's legacy
// simple-signing layers (sha256-<hex>.sig), its DSSE envelope layers (sha256-<hex>.att) and Sigstore bundles (OCI
// referrers). Binding to the image digest is checked here.

import { createHash } from 'node:crypto';
import { bundleFromJSON, type Bundle, type TransparencyLogEntry } from '@sigstore/bundle';
import { RFC3161Timestamp, X509Certificate, crypto as score, dsse, pem } from '@sigstore/core';
import { toSignedEntity, type SignedEntity } from '@sigstore/verify';
import { verifyWithKey } from './keys.js';
import { readStatement, shortDigest, type DefectCode, type StatementKind } from './statement.js';
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
export const DSSE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
const COSIGN_PAYLOAD_TYPE = 'cosign container image signature';

export type CandidateSource = 'referrers' | 'sig-tag' | 'att-tag';

/** One signature found for an image, ready to be tried against each authority. */
export interface Candidate {
  readonly source: CandidateSource;
  /** where it was found, for messages: "referrer sha256:ab12…" or "sha256-<hex>.sig layer 0" */
  readonly where: string;
  /** set when the signature cannot count for this image whatever the authority (other digest, malformed) */
  readonly defect?: string;
  readonly defectCode?: DefectCode;
  readonly entity?: SignedEntity;
  /** the docker-reference a legacy payload names */
  readonly reference?: string;
  /** attestations: the in-toto statement's predicate type and predicate (trusted only once an authority verified it) */
  readonly predicateType?: string;
  readonly predicate?: unknown;
}

export { COSIGN_SIGN_PREDICATE, shortDigest } from './statement.js';

export function defect(source: CandidateSource, where: string, reason: string, code: DefectCode = 'malformed'): Candidate {
  return { source, where, defect: reason, defectCode: code };
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

type Material = Pick<SignedEntity, 'key' | 'tlogEntries' | 'timestamps'>;

// The verification material cosign puts in layer annotations: certificate, Rekor bundle, RFC 3161 timestamp.
function annotationMaterial(annotations: Readonly<Record<string, string>>): Material | string {
  let key: SignedEntity['key'] = { $case: 'public-key', hint: '' };
  const certPem = annotations[ANNOTATIONS.certificate];
  if (certPem) {
    try {
      key = { $case: 'certificate', certificate: X509Certificate.parse(pem.toDER(certPem)) };
    } catch {
      return 'certificate annotation is not a PEM certificate';
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
      return `Rekor bundle annotation: ${err instanceof Error ? err.message : 'invalid'}`;
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
      return 'RFC 3161 timestamp annotation is invalid';
    }
  }
  return { key, tlogEntries, timestamps };
}

// A signed entity over `signed` bytes, whose content digest is the digest of `content` (the payload).
function entityOver(signature: Buffer, signed: Buffer, content: Buffer, material: Material): SignedEntity {
  const contentDigest = createHash('sha256').update(content).digest();
  const signedDigest = createHash('sha256').update(signed).digest();
  return {
    signature: {
      signature,
      compareSignature: (s) => score.bufferEqual(s, signature),
      compareDigest: (d) => score.bufferEqual(d, contentDigest),
      compareSignedDigest: (d) => score.bufferEqual(d, signedDigest),
      verifySignature: (k) => verifyWithKey(k, signed, signature),
    },
    ...material,
  };
}

const NOT_JSON = Symbol('not JSON');

// Parses untrusted bytes as JSON; NOT_JSON when they are not.
function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return NOT_JSON;
  }
}

// A legacy cosign signature layer: simple-signing payload bytes plus the layer's annotations.
export function legacyCandidate(where: string, payload: Buffer, annotations: Readonly<Record<string, string>>, digest: string): Candidate {
  const source: CandidateSource = 'sig-tag';
  const doc = parseJson(payload);
  if (doc === NOT_JSON) return defect(source, where, 'payload is not JSON');
  const critical = isObject(doc) && isObject(doc.critical) ? doc.critical : undefined;
  const image = critical && isObject(critical.image) ? critical.image : undefined;
  const signed = image?.['docker-manifest-digest'];
  if (!critical || critical.type !== COSIGN_PAYLOAD_TYPE || typeof signed !== 'string') {
    return defect(source, where, 'payload is not a cosign simple-signing payload');
  }
  if (signed !== digest) return defect(source, where, `signature over another digest (${shortDigest(signed)})`, 'other-digest');
  const identity = isObject(critical.identity) ? critical.identity['docker-reference'] : undefined;
  const sigText = annotations[ANNOTATIONS.signature];
  if (!sigText) return defect(source, where, `no ${ANNOTATIONS.signature} annotation`);
  const material = annotationMaterial(annotations);
  if (typeof material === 'string') return defect(source, where, material);
  const entity = entityOver(Buffer.from(sigText, 'base64'), payload, payload, material);
  return { source, where, entity, ...(typeof identity === 'string' ? { reference: identity } : {}) };
}

// A DSSE envelope layer of the cosign v2 attestation tag (sha256-<hex>.att): the envelope JSON plus the layer's
// annotations (certificate, Rekor bundle); its in-toto statement must name the image digest.
export function envelopeCandidate(where: string, bytes: Buffer, annotations: Readonly<Record<string, string>>, digest: string): Candidate {
  const source: CandidateSource = 'att-tag';
  const env = parseJson(bytes);
  if (env === NOT_JSON) return defect(source, where, 'DSSE envelope is not JSON');
  if (!isObject(env) || typeof env.payloadType !== 'string' || typeof env.payload !== 'string' || !Array.isArray(env.signatures)) {
    return defect(source, where, 'expected a DSSE envelope {payloadType, payload, signatures}');
  }
  const sigs = env.signatures.filter((x) => isObject(x) && typeof x.sig === 'string') as Array<{ sig: string }>;
  if (sigs.length !== 1 || env.signatures.length !== 1) return defect(source, where, `expected one DSSE signature, got ${env.signatures.length}`);
  const payload = Buffer.from(env.payload, 'base64');
  const read = readStatement(env.payloadType, payload, digest, 'attestation');
  if ('defect' in read) return defect(source, where, read.defect, read.code);
  const material = annotationMaterial(annotations);
  if (typeof material === 'string') return defect(source, where, material);
  const entity = entityOver(Buffer.from((sigs[0] as { sig: string }).sig, 'base64'), dsse.preAuthEncoding(env.payloadType, payload), payload, material);
  return { source, where, entity, predicateType: read.predicateType, predicate: read.predicate };
}

// A Sigstore bundle from a referrer layer: a DSSE envelope whose in-toto statement names the image digest, either a
// cosign signature (kind 'signature') or an attestation of any other predicate type (kind 'attestation').
export function bundleCandidate(where: string, bytes: Buffer, digest: string, kind: StatementKind = 'signature'): Candidate {
  const source: CandidateSource = 'referrers';
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(JSON.parse(bytes.toString('utf8')));
  } catch (err) {
    return defect(source, where, `not a valid Sigstore bundle (${err instanceof Error ? err.message.slice(0, 100) : 'invalid'})`);
  }
  if (bundle.content.$case !== 'dsseEnvelope') return defect(source, where, 'bundle holds a message signature, which cannot name an image digest');
  const env = bundle.content.dsseEnvelope;
  if (env.signatures.length !== 1) return defect(source, where, `expected one DSSE signature, got ${env.signatures.length}`);
  const read = readStatement(env.payloadType, env.payload, digest, kind);
  if ('defect' in read) return defect(source, where, read.defect, read.code);
  try {
    const entity = withKeyAwareCheck(toSignedEntity(bundle), () => dsse.preAuthEncoding(env.payloadType, env.payload));
    return { source, where, entity, ...(kind === 'attestation' ? { predicateType: read.predicateType, predicate: read.predicate } : {}) };
  } catch (err) {
    return defect(source, where, `bundle verification material is invalid (${err instanceof Error ? err.message.slice(0, 100) : 'invalid'})`);
  }
}
