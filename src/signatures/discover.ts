// Finds an image's signatures: OCI 1.1 referrers (API, else the sha256-<hex> tag schema, both through the
// registry client) and the legacy sha256-<hex>.sig tag; with limits on counts and sizes.

import type { CallOptions, RegistryClient, RepoRef } from '../images/client.js';
import { RegistryError } from '../images/errors.js';
import type { Descriptor } from '../images/manifest.js';
import { ANNOTATIONS, BUNDLE_MEDIA_TYPES, SIMPLE_SIGNING_MEDIA_TYPE, bundleCandidate, legacyCandidate, shortDigest, type Candidate } from './candidates.js';

export interface DiscoveryLimits {
  /** referrers (bundles) looked at per image */
  maxReferrers: number;
  /** layers of one signature manifest; more and the manifest is refused */
  maxLayers: number;
  /** bytes of one signature payload or bundle */
  maxSignatureBytes: number;
}

export const DEFAULT_LIMITS: DiscoveryLimits = { maxReferrers: 16, maxLayers: 32, maxSignatureBytes: 256 * 1024 };

export interface Discovery {
  readonly candidates: readonly Candidate[];
  /** registry failures per source; a result with no verified signature and any error is an error */
  readonly errors: readonly RegistryError[];
}

// The legacy cosign signature tag for a digest: sha256:<hex> -> sha256-<hex>.sig
export function sigTag(digest: string): string {
  return `${digest.replace(':', '-')}.sig`;
}

const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

// Whether a referrer may hold a Sigstore bundle: its artifactType says so, or is missing or the empty config type
// (registries built on go-containerregistry report config.mediaType instead of the manifest's artifactType).
function mayBeBundle(d: Descriptor): boolean {
  return d.artifactType === undefined || d.artifactType === OCI_EMPTY || BUNDLE_MEDIA_TYPES.has(d.artifactType);
}

async function fromReferrers(client: RegistryClient, repo: RepoRef, digest: string, call: CallOptions, limits: DiscoveryLimits): Promise<Candidate[]> {
  // no server-side artifactType filter: the client would then also drop entries some registries misreport
  const all = (await client.referrers(repo, digest, undefined, call)).filter(mayBeBundle);
  const out: Candidate[] = [];
  const seen = new Set<string>();
  const wanted: Descriptor[] = [];
  for (const d of all) {
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    if (d.digest === digest) {
      out.push({ source: 'referrers', where: `referrer ${shortDigest(d.digest)}`, defect: 'referrer points at the image itself' });
      continue;
    }
    wanted.push(d);
  }
  if (wanted.length > limits.maxReferrers) {
    out.push({ source: 'referrers', where: 'referrers', defect: `${wanted.length} signature referrers, more than the limit ${limits.maxReferrers}; only the last ${limits.maxReferrers} listed were checked` });
  }
  const checked = wanted.slice(-limits.maxReferrers);
  const found = await Promise.all(checked.map((d) => fromReferrer(client, repo, digest, d, call, limits)));
  return [...out, ...found.flat()];
}

async function fromReferrer(client: RegistryClient, repo: RepoRef, digest: string, d: Descriptor, call: CallOptions, limits: DiscoveryLimits): Promise<Candidate[]> {
  const where = `referrer ${shortDigest(d.digest)}`;
  const m = await client.getManifest(repo, d.digest, call);
  if (m.manifest.kind !== 'manifest') return []; // an index is some other artifact, never a signature
  if (m.manifest.subject?.digest !== digest) return [{ source: 'referrers', where, defect: 'referrer names another subject' }];
  const layers = m.manifest.layers.filter((l) => BUNDLE_MEDIA_TYPES.has(l.mediaType));
  if (m.manifest.layers.length > limits.maxLayers) return [{ source: 'referrers', where, defect: `${m.manifest.layers.length} layers, more than the limit ${limits.maxLayers}` }];
  return Promise.all(
    layers.map(async (l, i) => {
      if (l.size > limits.maxSignatureBytes) return { source: 'referrers' as const, where, defect: `bundle of ${l.size} bytes, more than the limit ${limits.maxSignatureBytes}` };
      const bytes = await client.getBlob(repo, l.digest, { ...call, maxBytes: limits.maxSignatureBytes, expectedSize: l.size });
      return bundleCandidate(layers.length > 1 ? `${where} layer ${i}` : where, bytes, digest);
    }),
  );
}

async function fromSigTag(client: RegistryClient, repo: RepoRef, digest: string, call: CallOptions, limits: DiscoveryLimits): Promise<Candidate[]> {
  const tag = sigTag(digest);
  let m;
  try {
    m = await client.getManifest(repo, tag, call);
  } catch (err) {
    if (err instanceof RegistryError && err.code === 'REGISTRY_NOT_FOUND') return [];
    throw err;
  }
  if (m.digest === digest) return [{ source: 'sig-tag', where: tag, defect: 'signature tag points at the image itself' }];
  if (m.manifest.kind !== 'manifest') return [{ source: 'sig-tag', where: tag, defect: 'signature tag names an index, not a signature manifest' }];
  const layers = m.manifest.layers;
  if (layers.length > limits.maxLayers) return [{ source: 'sig-tag', where: tag, defect: `${layers.length} signature layers, more than the limit ${limits.maxLayers}` }];
  return Promise.all(
    layers.map(async (l, i): Promise<Candidate> => {
      const where = `${tag} layer ${i}`;
      if (l.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) return { source: 'sig-tag', where, defect: `layer media type ${l.mediaType.slice(0, 80)} is not a cosign signature` };
      if (!l.annotations?.[ANNOTATIONS.signature]) return { source: 'sig-tag', where, defect: `no ${ANNOTATIONS.signature} annotation` };
      if (l.size > limits.maxSignatureBytes) return { source: 'sig-tag', where, defect: `payload of ${l.size} bytes, more than the limit ${limits.maxSignatureBytes}` };
      const payload = await client.getBlob(repo, l.digest, { ...call, maxBytes: limits.maxSignatureBytes, expectedSize: l.size });
      return legacyCandidate(where, payload, l.annotations, digest);
    }),
  );
}

// Looks in every place cosign writes signatures; a registry failure in one place is recorded, not thrown.
export async function discoverSignatures(client: RegistryClient, repo: RepoRef, digest: string, call: CallOptions, limits: DiscoveryLimits = DEFAULT_LIMITS): Promise<Discovery> {
  const errors: RegistryError[] = [];
  const guard = (p: Promise<Candidate[]>) =>
    p.catch((err: unknown) => {
      errors.push(err instanceof RegistryError ? err : new RegistryError('REGISTRY_UNREACHABLE', `${repo.registry}: ${err instanceof Error ? err.message.slice(0, 200) : 'unexpected error'}`, { registry: repo.registry, cause: err }));
      return [] as Candidate[];
    });
  const [referrers, legacy] = await Promise.all([guard(fromReferrers(client, repo, digest, call, limits)), guard(fromSigTag(client, repo, digest, call, limits))]);
  return { candidates: [...referrers, ...legacy], errors };
}
