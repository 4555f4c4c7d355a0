// In-toto statements inside DSSE envelopes: the payload type, the statement shape, the subject that must name the
// image digest, and the predicate type that says whether it is a cosign signature or an attestation.

import { isObject } from '../workload/k8s.js';

export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const INTOTO_STATEMENT_TYPES: ReadonlySet<string> = new Set(['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1']);

/** what a statement must be: a cosign signature, or an attestation (any other predicate type) */
export type StatementKind = 'signature' | 'attestation';

export interface Statement {
  readonly predicateType: string;
  readonly predicate: unknown;
}

/** why found material cannot count whatever the authority: it names another digest, is of another kind, or is malformed */
export type DefectCode = 'other-digest' | 'not-wanted' | 'malformed';

export interface StatementDefect {
  readonly defect: string;
  readonly code: DefectCode;
}

const malformed = (defect: string): StatementDefect => ({ defect, code: 'malformed' });

// Abbreviates a digest for messages: sha256:3f1c2a9b7e4d…
export function shortDigest(digest: string): string {
  const [alg, hex = ''] = digest.split(':');
  return `${alg}:${hex.slice(0, 12)}…`;
}

// Reads the statement of a DSSE payload and checks it names the digest; a string says why it cannot count.
export function readStatement(payloadType: string, payload: Buffer, digest: string, kind: StatementKind): Statement | StatementDefect {
  if (payloadType !== INTOTO_PAYLOAD_TYPE) return malformed(`DSSE payload type is "${payloadType.slice(0, 60)}", not in-toto`);
  let statement: unknown;
  try {
    statement = JSON.parse(payload.toString('utf8'));
  } catch {
    return malformed('in-toto statement is not JSON');
  }
  if (!isObject(statement) || typeof statement._type !== 'string' || !INTOTO_STATEMENT_TYPES.has(statement._type) || !Array.isArray(statement.subject)) {
    return malformed('payload is not an in-toto statement');
  }
  const predicateType = typeof statement.predicateType === 'string' ? statement.predicateType : '';
  if (kind === 'signature' && predicateType !== COSIGN_SIGN_PREDICATE) return { defect: `an attestation (${predicateType.slice(0, 80)}), not a signature`, code: 'not-wanted' };
  if (kind === 'attestation' && (predicateType === '' || predicateType === COSIGN_SIGN_PREDICATE)) return { defect: 'a signature, not an attestation', code: 'not-wanted' };
  const [alg, hex] = digest.split(':') as [string, string];
  const subjects = statement.subject.filter(isObject);
  if (!subjects.some((s) => isObject(s.digest) && s.digest[alg] === hex)) {
    const other = subjects.map((s) => (isObject(s.digest) && typeof s.digest[alg] === 'string' ? `${alg}:${s.digest[alg]}` : '')).find(Boolean);
    return { defect: other ? `${kind} over another digest (${shortDigest(other)})` : 'statement names no image digest', code: 'other-digest' };
  }
  return { predicateType, predicate: statement.predicate };
}
