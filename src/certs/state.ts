// The self-managed certificate state and how it is kept in a Secret shared by every replica.
import type { KeyPair } from '../server/certs.js';
import { joinPem, splitPem } from './pem.js';
import { PortcullisError } from '../errors.js';

/**
 * stable       the bundle holds the signing CA only
 * ca-staged    a next CA is in the bundle next to the current one; the serving certificate is still the old one
 * ca-switched  the serving certificate comes from the new CA; the previous CA stays in the bundle a while longer
 */
export type Phase = 'stable' | 'ca-staged' | 'ca-switched';

export interface CertState {
  readonly phase: Phase;
  /** bumped whenever the bundle changes; the webhook configuration records the one it carries */
  readonly generation: number;
  /** when the current phase began (ms since the epoch) */
  readonly phaseSince: number;
  /** the CA that signs the serving certificate */
  readonly ca: KeyPair;
  readonly serving: KeyPair;
  /** PEM certificates the API server must trust (the caBundle) */
  readonly bundle: string;
  /** the CA waiting to take over (ca-staged only) */
  readonly nextCa?: KeyPair;
  /** value of the rotate-ca annotation last acted upon */
  readonly rotatedFor?: string;
}

export const ANNOTATION = {
  phase: 'portcullis.dev/cert-phase',
  generation: 'portcullis.dev/ca-bundle-generation',
  phaseSince: 'portcullis.dev/cert-phase-since',
  /** set by an operator (any new value) to rotate the CA now */
  rotateCa: 'portcullis.dev/rotate-ca',
  rotatedFor: 'portcullis.dev/rotated-ca-for',
  /** on the webhook configuration: "<secret uid>/<generation>" of the bundle it carries */
  bundleSource: 'portcullis.dev/ca-bundle-source',
} as const;

export const DATA = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  cert: 'tls.crt',
  key: 'tls.key',
  bundle: 'ca-bundle.crt',
  nextCaCert: 'ca-next.crt',
  nextCaKey: 'ca-next.key',
} as const;

export class CertStateError extends PortcullisError<'BAD_CERT_SECRET'> {
  constructor(message: string) {
    super('BAD_CERT_SECRET', message);
  }
}

const PHASES: readonly Phase[] = ['stable', 'ca-staged', 'ca-switched'];

/** The parts of a Secret this module reads and writes. */
export interface SecretLike {
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; annotations?: Record<string, string>; labels?: Record<string, string>; ownerReferences?: unknown[] };
  type?: string;
  data?: Record<string, string>;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined): string | undefined => (s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8'));

// Reads the certificate state from a Secret; throws CertStateError when a required part is missing.
export function decodeState(secret: SecretLike): CertState {
  const data = secret.data ?? {};
  const ann = secret.metadata?.annotations ?? {};
  const need = (key: string): string => {
    const v = unb64(data[key]);
    if (!v) throw new CertStateError(`secret ${secret.metadata?.name ?? ''}: expected data.${key}, got none`);
    return v;
  };
  const phase = (ann[ANNOTATION.phase] ?? 'stable') as Phase;
  if (!PHASES.includes(phase)) throw new CertStateError(`secret ${secret.metadata?.name ?? ''}: expected a phase in ${PHASES.join('|')}, got "${phase}"`);
  const generation = Number(ann[ANNOTATION.generation] ?? '1');
  const phaseSince = Date.parse(ann[ANNOTATION.phaseSince] ?? '');
  const nextCert = unb64(data[DATA.nextCaCert]);
  const nextKey = unb64(data[DATA.nextCaKey]);
  if (phase === 'ca-staged' && !(nextCert && nextKey)) throw new CertStateError(`secret ${secret.metadata?.name ?? ''}: expected the next CA in phase ca-staged, got none`);
  const bundle = joinPem([need(DATA.bundle)]);
  if (splitPem(bundle).length === 0) throw new CertStateError(`secret ${secret.metadata?.name ?? ''}: expected PEM certificates in data.${DATA.bundle}, got none`);
  const rotatedFor = ann[ANNOTATION.rotatedFor];
  return {
    phase,
    generation: Number.isInteger(generation) && generation > 0 ? generation : 1,
    phaseSince: Number.isFinite(phaseSince) ? phaseSince : 0,
    ca: { certPem: need(DATA.caCert), keyPem: need(DATA.caKey) },
    serving: { certPem: need(DATA.cert), keyPem: need(DATA.key) },
    bundle,
    ...(phase === 'ca-staged' && nextCert && nextKey ? { nextCa: { certPem: nextCert, keyPem: nextKey } } : {}),
    ...(rotatedFor !== undefined ? { rotatedFor } : {}),
  };
}

// The Secret's data and annotations for a state (metadata other than annotations is the caller's).
export function encodeState(state: CertState): { data: Record<string, string>; annotations: Record<string, string> } {
  const data: Record<string, string> = {
    [DATA.caCert]: b64(state.ca.certPem),
    [DATA.caKey]: b64(state.ca.keyPem),
    [DATA.cert]: b64(state.serving.certPem),
    [DATA.key]: b64(state.serving.keyPem),
    [DATA.bundle]: b64(state.bundle),
  };
  if (state.nextCa) {
    data[DATA.nextCaCert] = b64(state.nextCa.certPem);
    data[DATA.nextCaKey] = b64(state.nextCa.keyPem);
  }
  const annotations: Record<string, string> = {
    [ANNOTATION.phase]: state.phase,
    [ANNOTATION.generation]: String(state.generation),
    [ANNOTATION.phaseSince]: new Date(state.phaseSince).toISOString(),
  };
  if (state.rotatedFor !== undefined) annotations[ANNOTATION.rotatedFor] = state.rotatedFor;
  return { data, annotations };
}

// The operator's rotate-ca request when it has not been acted upon yet.
export function pendingRotation(secret: SecretLike, state: CertState): string | undefined {
  const requested = secret.metadata?.annotations?.[ANNOTATION.rotateCa];
  return requested && requested !== state.rotatedFor ? requested : undefined;
}
