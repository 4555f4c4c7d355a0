// Writes cosign's signature formats into a test registry from Node, for the cases real cosign cannot make
// (attacks, other key types, keyless with a mock Fulcio/Rekor): legacy sha256-<hex>.sig manifests,
// Sigstore bundles as OCI referrers (tag-schema fallback index), plus minimal images to sign.

import { createHash, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { request } from 'undici';

export const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

export interface PushedImage {
  /** host/repository */
  name: string;
  repository: string;
  digest: string;
  /** host/repository@digest */
  ref: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Minimal registry writer over plain HTTP (anonymous test registries). */
export class RegistryWriter {
  readonly host: string;
  constructor(host: string) {
    this.host = host;
  }

  async blob(repository: string, bytes: Buffer): Promise<Descriptor & { mediaType: '' }> {
    const digest = sha256(bytes);
    const start = await request(`http://${this.host}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    await start.body.dump();
    if (start.statusCode !== 202) throw new Error(`blob upload start: ${start.statusCode}`);
    const location = new URL(String(start.headers.location), `http://${this.host}`);
    location.searchParams.set('digest', digest);
    const put = await request(location, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) } });
    await put.body.dump();
    if (put.statusCode !== 201) throw new Error(`blob upload: ${put.statusCode}`);
    return { mediaType: '', digest, size: bytes.length };
  }

  // PUT a manifest or index under a tag or its digest; returns its descriptor.
  async manifest(repository: string, doc: object, reference?: string): Promise<Descriptor> {
    const bytes = Buffer.from(JSON.stringify(doc));
    const digest = sha256(bytes);
    const mediaType = (doc as { mediaType?: string }).mediaType ?? OCI_MANIFEST;
    const res = await request(`http://${this.host}/v2/${repository}/manifests/${reference ?? digest}`, { method: 'PUT', body: bytes, headers: { 'content-type': mediaType } });
    const text = await res.body.text();
    if (res.statusCode !== 201) throw new Error(`manifest put ${repository}:${reference ?? digest}: ${res.statusCode} ${text.slice(0, 300)}`);
    return { mediaType, digest, size: bytes.length };
  }

  async deleteManifest(repository: string, digest: string): Promise<void> {
    const res = await request(`http://${this.host}/v2/${repository}/manifests/${digest}`, { method: 'DELETE' });
    await res.body.dump();
  }

  // A tiny single-layer OCI image, distinct per `seed`; tagged when a tag is given.
  async image(repository: string, seed: string, tag?: string): Promise<PushedImage> {
    const layer = await this.blob(repository, Buffer.from(`layer ${seed}`));
    const config = await this.blob(repository, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { User: '1000' }, rootfs: { type: 'layers', diff_ids: [layer.digest] }, seed })));
    const m = await this.manifest(repository, {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size: layer.size }],
    }, tag);
    const name = `${this.host}/${repository}`;
    return { name, repository, digest: m.digest, ref: `${name}@${m.digest}` };
  }
}

// A key pair of the kinds cosign users bring: ECDSA P-256/P-384, RSA, Ed25519.
export function keyPair(kind: 'p256' | 'p384' | 'rsa' | 'ed25519' = 'p256'): { privateKey: KeyObject; publicKey: KeyObject; publicPem: string } {
  const kp =
    kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) :
    kind === 'ed25519' ? generateKeyPairSync('ed25519') :
    generateKeyPairSync('ec', { namedCurve: kind === 'p384' ? 'P-384' : 'P-256' });
  return { ...kp, publicPem: kp.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

// Signs as cosign does: SHA-256 (ECDSA P-256, RSA PKCS#1 v1.5), the curve's hash for P-384, pure Ed25519.
export function signBytes(key: KeyObject, data: Buffer): Buffer {
  if (key.asymmetricKeyType === 'ed25519') return cryptoSign(null, data, key);
  const hash = key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'sha384' : 'sha256';
  return cryptoSign(hash, data, key);
}

// cosign's simple-signing payload for a digest.
export function simpleSigningPayload(dockerReference: string, digest: string): Buffer {
  return Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': dockerReference }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' }, optional: null }));
}

export interface LegacyLayer {
  payload: Buffer;
  signature: Buffer;
  annotations?: Record<string, string>;
}

// Pushes a sha256-<hex>.sig manifest with these signature layers (what cosign v2 writes).
export async function pushLegacySignature(w: RegistryWriter, image: PushedImage, layers: LegacyLayer[], opts: { tagFor?: string } = {}): Promise<Descriptor> {
  const config = await w.blob(image.repository, Buffer.from('{}'));
  const descs: Descriptor[] = [];
  const uploaded = new Map<string, Descriptor>();
  for (const l of layers) {
    const key = l.payload.toString('base64');
    const b = uploaded.get(key) ?? (await w.blob(image.repository, l.payload));
    uploaded.set(key, b);
    descs.push({ mediaType: SIMPLE_SIGNING, digest: b.digest, size: b.size, annotations: { 'dev.cosignproject.cosign/signature': l.signature.toString('base64'), ...(l.annotations ?? {}) } });
  }
  const tag = `${(opts.tagFor ?? image.digest).replace(':', '-')}.sig`;
  return w.manifest(image.repository, { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size }, layers: descs }, tag);
}

// Signs an image the legacy way with a key and pushes the .sig manifest.
export async function legacySignWithKey(w: RegistryWriter, image: PushedImage, key: KeyObject, opts: { signedDigest?: string; reference?: string } = {}): Promise<Descriptor> {
  const payload = simpleSigningPayload(opts.reference ?? image.name, opts.signedDigest ?? image.digest);
  return pushLegacySignature(w, image, [{ payload, signature: signBytes(key, payload) }]);
}

// The in-toto statement cosign v3 signs for an image digest.
export function signStatement(digest: string, predicateType = 'https://sigstore.dev/cosign/sign/v1'): Buffer {
  const [alg, hex] = digest.split(':') as [string, string];
  return Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ digest: { [alg]: hex } }], predicateType, predicate: {} }));
}

export function pae(payloadType: string, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `), payload]);
}

// A v0.3 bundle (JSON) with a DSSE envelope signed by a key; tlog entries and verification material as given.
export function keyBundle(key: KeyObject, statement: Buffer, publicKeyHint = ''): object {
  const payloadType = 'application/vnd.in-toto+json';
  const sig = signBytes(key, pae(payloadType, statement));
  return {
    mediaType: BUNDLE_V03,
    verificationMaterial: { publicKey: { hint: publicKeyHint }, tlogEntries: [], timestampVerificationData: { rfc3161Timestamps: [] } },
    dsseEnvelope: { payload: statement.toString('base64'), payloadType, signatures: [{ sig: sig.toString('base64'), keyid: '' }] },
  };
}

// Pushes a bundle as an OCI referrer of the image and adds it to the sha256-<hex> referrers tag index
// (the fallback cosign uses on registries without the referrers API).
export async function pushBundleReferrer(w: RegistryWriter, image: PushedImage, bundle: object | Buffer, opts: { subjectDigest?: string; layers?: number; indexExtra?: Descriptor[]; fallbackIndex?: boolean } = {}): Promise<Descriptor> {
  const bytes = Buffer.isBuffer(bundle) ? bundle : Buffer.from(JSON.stringify(bundle));
  const layer = await w.blob(image.repository, bytes);
  const empty = await w.blob(image.repository, Buffer.from('{}'));
  const layers = Array.from({ length: opts.layers ?? 1 }, () => ({ mediaType: BUNDLE_V03, digest: layer.digest, size: layer.size }));
  const subject = { mediaType: OCI_MANIFEST, digest: opts.subjectDigest ?? image.digest, size: 0 };
  const annotations = { 'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1' };
  const m = await w.manifest(image.repository, { schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: BUNDLE_V03, config: { mediaType: OCI_EMPTY, digest: empty.digest, size: empty.size }, layers, subject, annotations });
  if (opts.fallbackIndex !== false) await addToReferrersIndex(w, image, [{ ...m, artifactType: BUNDLE_V03, annotations }, ...(opts.indexExtra ?? [])]);
  return m;
}

const indexes = new Map<string, Descriptor[]>();

// Appends descriptors to the image's sha256-<hex> referrers tag index.
export async function addToReferrersIndex(w: RegistryWriter, image: PushedImage, descs: Descriptor[]): Promise<void> {
  const key = `${w.host}/${image.repository}@${image.digest}`;
  const list = [...(indexes.get(key) ?? []), ...descs];
  indexes.set(key, list);
  await w.manifest(image.repository, { schemaVersion: 2, mediaType: OCI_INDEX, manifests: list }, image.digest.replace(':', '-'));
}
