// Finds an image's signatures or attestations: OCI 1.1 referrers (API, else the sha256-<hex> tag schema, both through
// the registry client) and cosign's legacy sha256-<hex>.sig and sha256-<hex>.att tags; with limits on counts and sizes.

import type { CallOptions, RegistryClient, RepoRef } from '../images/client.js';
import { RegistryError } from '../images/errors.js';
import type { Descriptor } from '../images/manifest.js';
import { ANNOTATIONS, BUNDLE_MEDIA_TYPES, DSSE_MEDIA_TYPE, SIMPLE_SIGNING_MEDIA_TYPE, bundleCandidate, envelopeCandidate, legacyCandidate, shortDigest, type Candidate, type CandidateSource } from './candidates.js';
import type { StatementKind } from './statement.js';

export interface DiscoveryLimits {
  /** referrers (bundles) looked at per image */
  maxReferrers: number;
  /** layers of one signature manifest; more and the manifest is refused */
  maxLayers: number;
  /** bytes of one signature payload or bundle */
  maxSignatureBytes: number;
  /** bytes of one attestation envelope or bundle (a scanner report can be large) */
  maxAttestationBytes: number;
}

export const DEFAULT_LIMITS: DiscoveryLimits = { maxReferrers: 16, maxLayers: 32, maxSignatureBytes: 256 * 1024, maxAttestationBytes: 4 * 1024 * 1024 };

/** What to look for: cosign signatures, or attestations whose predicate type is one of these. */
export type Wanted = { readonly kind: 'signature' } | { readonly kind: 'attestation'; readonly predicateTypes: ReadonlySet<string> };

const SIGNATURES: Wanted = { kind: 'signature' };
/** the annotation cosign v3 sets on attestation referrers; cosign v2 sets `predicateType` on .att layers */
const REFERRER_PREDICATE = 'dev.sigstore.bundle.predicateType';

export interface Discovery {
  readonly candidates: readonly Candidate[];
  /** registry failures per source; a result with no verified signature and any error is an error */
  readonly errors: readonly RegistryError[];
}

// The legacy cosign signature tag for a digest: sha256:<hex> -> sha256-<hex>.sig
export function sigTag(digest: string, suffix: 'sig' | 'att' = 'sig'): string {
  return `${digest.replace(':', '-')}.${suffix}`;
}

// An attestation whose unsigned predicate-type annotation names a type not wanted: noted, not downloaded.
function skipped(wanted: Wanted, source: CandidateSource, where: string, annotated: string | undefined): Candidate | undefined {
  if (wanted.kind !== 'attestation' || annotated === undefined || wanted.predicateTypes.has(annotated)) return undefined;
  return { source, where, defect: `an attestation of predicate type ${annotated.slice(0, 100)}, not one configured`, defectCode: 'not-wanted', predicateType: annotated };
}

const maxBytes = (wanted: Wanted, limits: DiscoveryLimits) => (wanted.kind === 'signature' ? limits.maxSignatureBytes : limits.maxAttestationBytes);

const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

// Whether a referrer may hold a Sigstore bundle: its artifactType says so, or is missing or the empty config type
// (registries built on go-containerregistry report config.mediaType instead of the manifest's artifactType).
function mayBeBundle(d: Descriptor): boolean {
  return d.artifactType === undefined || d.artifactType === OCI_EMPTY || BUNDLE_MEDIA_TYPES.has(d.artifactType);
}

async function fromReferrers(client: RegistryClient, repo: RepoRef, digest: string, call: CallOptions, limits: DiscoveryLimits, want: Wanted): Promise<Candidate[]> {
  // no server-side artifactType filter: the client would then also drop entries some registries misreport
  const all = (await client.referrers(repo, digest, undefined, call)).filter(mayBeBundle);
  const out: Candidate[] = [];
  const seen = new Set<string>();
  const wanted: Descriptor[] = [];
  for (const d of all) {
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    if (d.digest === digest) {
      out.push({ source: 'referrers', where: `referrer ${shortDigest(d.digest)}`, defect: 'referrer points at the image itself', defectCode: 'other-digest' });
      continue;
    }
    const skip = skipped(want, 'referrers', `referrer ${shortDigest(d.digest)}`, d.annotations?.[REFERRER_PREDICATE]);
    if (skip) out.push(skip);
    else wanted.push(d);
  }
  if (wanted.length > limits.maxReferrers) {
    out.push({ source: 'referrers', where: 'referrers', defect: `${wanted.length} signature referrers, more than the limit ${limits.maxReferrers}; only the last ${limits.maxReferrers} listed were checked` });
  }
  const checked = wanted.slice(-limits.maxReferrers);
  const found = await Promise.all(checked.map((d) => fromReferrer(client, repo, digest, d, call, limits, want)));
  return [...out, ...found.flat()];
}

async function fromReferrer(client: RegistryClient, repo: RepoRef, digest: string, d: Descriptor, call: CallOptions, limits: DiscoveryLimits, want: Wanted): Promise<Candidate[]> {
  const where = `referrer ${shortDigest(d.digest)}`;
  const m = await client.getManifest(repo, d.digest, call);
  if (m.manifest.kind !== 'manifest') return []; // an index is some other artifact, never a signature
  if (m.manifest.subject?.digest !== digest) return [{ source: 'referrers', where, defect: 'referrer names another subject', defectCode: 'other-digest' }];
  const limit = maxBytes(want, limits);
  const layers = m.manifest.layers.filter((l) => BUNDLE_MEDIA_TYPES.has(l.mediaType));
  if (m.manifest.layers.length > limits.maxLayers) return [{ source: 'referrers', where, defect: `${m.manifest.layers.length} layers, more than the limit ${limits.maxLayers}` }];
  return Promise.all(
    layers.map(async (l, i) => {
      if (l.size > limit) return { source: 'referrers' as const, where, defect: `bundle of ${l.size} bytes, more than the limit ${limit}` };
      const bytes = await client.getBlob(repo, l.digest, { ...call, maxBytes: limit, expectedSize: l.size });
      return bundleCandidate(layers.length > 1 ? `${where} layer ${i}` : where, bytes, digest, want.kind as StatementKind);
    }),
  );
}

// One layer of a legacy tag's manifest as a candidate: a simple-signing payload (.sig) or a DSSE envelope (.att).
async function tagLayer(client: RegistryClient, repo: RepoRef, digest: string, call: CallOptions, limits: DiscoveryLimits, want: Wanted, l: Descriptor, where: string): Promise<Candidate> {
  const source: CandidateSource = want.kind === 'signature' ? 'sig-tag' : 'att-tag';
  const mediaType = want.kind === 'signature' ? SIMPLE_SIGNING_MEDIA_TYPE : DSSE_MEDIA_TYPE;
  if (l.mediaType !== mediaType) return { source, where, defect: `layer media type ${l.mediaType.slice(0, 80)} is not a cosign ${want.kind}` };
  if (want.kind === 'signature' && !l.annotations?.[ANNOTATIONS.signature]) return { source, where, defect: `no ${ANNOTATIONS.signature} annotation` };
  const skip = skipped(want, source, where, l.annotations?.predicateType);
  if (skip) return skip;
  const limit = maxBytes(want, limits);
  if (l.size > limit) return { source, where, defect: `payload of ${l.size} bytes, more than the limit ${limit}` };
  const bytes = await client.getBlob(repo, l.digest, { ...call, maxBytes: limit, expectedSize: l.size });
  const annotations = l.annotations ?? {};
  return want.kind === 'signature' ? legacyCandidate(where, bytes, annotations, digest) : envelopeCandidate(where, bytes, annotations, digest);
}

// The layers of cosign's legacy sha256-<hex>.sig (signatures) or sha256-<hex>.att (attestations) tag.
async function fromLegacyTag(client: RegistryClient, repo: RepoRef, digest: string, call: CallOptions, limits: DiscoveryLimits, want: Wanted): Promise<Candidate[]> {
  const tag = sigTag(digest, want.kind === 'signature' ? 'sig' : 'att');
  const source: CandidateSource = want.kind === 'signature' ? 'sig-tag' : 'att-tag';
  let m;
  try {
    m = await client.getManifest(repo, tag, call);
  } catch (err) {
    if (err instanceof RegistryError && err.code === 'REGISTRY_NOT_FOUND') return [];
    throw err;
  }
  if (m.digest === digest) return [{ source, where: tag, defect: `${want.kind} tag points at the image itself` }];
  if (m.manifest.kind !== 'manifest') return [{ source, where: tag, defect: `${want.kind} tag names an index, not a ${want.kind} manifest` }];
  const layers = m.manifest.layers;
  if (layers.length > limits.maxLayers) return [{ source, where: tag, defect: `${layers.length} ${want.kind} layers, more than the limit ${limits.maxLayers}` }];
  return Promise.all(layers.map((l, i) => tagLayer(client, repo, digest, call, limits, want, l, `${tag} layer ${i}`)));
}

// Looks in every place cosign writes signatures (or, with `want`, attestations); a registry failure in one place is
// recorded, not thrown.
export async function discoverSignatures(client: RegistryClient, repo: RepoRef, digest: string, call: CallOptions, limits: DiscoveryLimits = DEFAULT_LIMITS, want: Wanted = SIGNATURES): Promise<Discovery> {
  const errors: RegistryError[] = [];
  const guard = (p: Promise<Candidate[]>) =>
    p.catch((err: unknown) => {
      errors.push(err instanceof RegistryError ? err : new RegistryError('REGISTRY_UNREACHABLE', `${repo.registry}: ${err instanceof Error ? err.message.slice(0, 200) : 'unexpected error'}`, { registry: repo.registry, cause: err }));
      return [] as Candidate[];
    });
  const [referrers, legacy] = await Promise.all([guard(fromReferrers(client, repo, digest, call, limits, want)), guard(fromLegacyTag(client, repo, digest, call, limits, want))]);
  return { candidates: [...referrers, ...legacy], errors };
}
