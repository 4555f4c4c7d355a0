// OCI / Docker v2 manifests, indexes and image configs: media types and defensive parsing.

import { isDigestValue } from './digest.js';
import { RegistryError } from './errors.js';
import type { Platform } from './platform.js';
import { isObject } from '../workload/k8s.js';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

export const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest].join(', ');

const INDEX_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList]);
const MANIFEST_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  kind: 'index';
  mediaType: string;
  manifests: Descriptor[];
}

export interface ImageManifest {
  kind: 'manifest';
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
}

export type Manifest = ImageIndex | ImageManifest;

export interface ImageConfig {
  user: string;
  /** config.Env, "NAME=value" entries */
  env: string[];
  /** config.Labels */
  labels: Record<string, string>;
  os: string;
  architecture: string;
  variant?: string;
}

export function isIndexMediaType(mt: string): boolean {
  return INDEX_TYPES.has(mt);
}

function bad(code: 'INVALID_MANIFEST' | 'INVALID_CONFIG', registry: string, message: string): RegistryError {
  return new RegistryError(code, `${registry}: ${message}`, { registry });
}

// Parses JSON bytes of an untrusted answer; throws the given code on anything but a JSON object.
export function parseJsonObject(bytes: Uint8Array, code: 'INVALID_MANIFEST' | 'INVALID_CONFIG', registry: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    throw bad(code, registry, `expected JSON for ${what}, got invalid JSON`);
  }
  if (!isObject(value)) throw bad(code, registry, `expected a JSON object for ${what}, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  return value;
}

function parsePlatformField(v: unknown): Platform | undefined {
  if (!isObject(v)) return undefined;
  const { os, architecture, variant } = v;
  if (typeof os !== 'string' || typeof architecture !== 'string') return undefined;
  return typeof variant === 'string' && variant !== '' ? { os, architecture, variant } : { os, architecture };
}

// Checks one descriptor: mediaType string, sha256/sha512 digest, non-negative integer size.
export function parseDescriptor(v: unknown, registry: string, where: string): Descriptor {
  if (!isObject(v)) throw bad('INVALID_MANIFEST', registry, `expected a descriptor object at ${where}`);
  const { mediaType, digest, size } = v;
  if (typeof mediaType !== 'string' || mediaType.length > 255) throw bad('INVALID_MANIFEST', registry, `expected a mediaType string at ${where}`);
  if (!isDigestValue(digest)) throw bad('INVALID_MANIFEST', registry, `expected a sha256/sha512 digest at ${where}`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad('INVALID_MANIFEST', registry, `expected a non-negative integer size at ${where}`);
  const d: Descriptor = { mediaType, digest, size };
  const platform = parsePlatformField(v.platform);
  if (platform) d.platform = platform;
  if (typeof v.artifactType === 'string') d.artifactType = v.artifactType;
  if (isObject(v.annotations)) {
    const annotations: Record<string, string> = {};
    for (const [k, val] of Object.entries(v.annotations)) if (typeof val === 'string') annotations[k] = val;
    d.annotations = annotations;
  }
  return d;
}

// Parses a manifest or index; the media type comes from the body, else the Content-Type header.
export function parseManifest(bytes: Uint8Array, contentType: string | undefined, registry: string): Manifest {
  const doc = parseJsonObject(bytes, 'INVALID_MANIFEST', registry, 'a manifest');
  if (doc.schemaVersion !== 2) throw bad('INVALID_MANIFEST', registry, `expected schemaVersion 2, got ${JSON.stringify(doc.schemaVersion)?.slice(0, 20)}`);
  const header = contentType?.split(';')[0]?.trim().toLowerCase();
  let mediaType = typeof doc.mediaType === 'string' ? doc.mediaType : header && header !== 'application/json' ? header : undefined;
  if (!mediaType) mediaType = Array.isArray(doc.manifests) ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest;
  if (INDEX_TYPES.has(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw bad('INVALID_MANIFEST', registry, 'expected "manifests" to be an array in an index');
    if (doc.manifests.length > 1000) throw bad('INVALID_MANIFEST', registry, `expected at most 1000 index entries, got ${doc.manifests.length}`);
    return { kind: 'index', mediaType, manifests: doc.manifests.map((m, i) => parseDescriptor(m, registry, `manifests[${i}]`)) };
  }
  if (MANIFEST_TYPES.has(mediaType)) {
    const config = parseDescriptor(doc.config, registry, 'config');
    const layersRaw = doc.layers === undefined ? [] : doc.layers;
    if (!Array.isArray(layersRaw)) throw bad('INVALID_MANIFEST', registry, 'expected "layers" to be an array');
    const m: ImageManifest = { kind: 'manifest', mediaType, config, layers: layersRaw.map((l, i) => parseDescriptor(l, registry, `layers[${i}]`)) };
    if (doc.subject !== undefined) m.subject = parseDescriptor(doc.subject, registry, 'subject');
    if (typeof doc.artifactType === 'string') m.artifactType = doc.artifactType;
    return m;
  }
  throw bad('INVALID_MANIFEST', registry, `expected an OCI or Docker v2 manifest or index, got media type "${mediaType.slice(0, 100)}"`);
}

// Parses an image config blob: os, architecture, variant, config.User, config.Env and config.Labels.
export function parseImageConfig(bytes: Uint8Array, registry: string): ImageConfig {
  const doc = parseJsonObject(bytes, 'INVALID_CONFIG', registry, 'an image config');
  const { os, architecture, variant, config } = doc;
  if (typeof os !== 'string' || typeof architecture !== 'string') {
    throw bad('INVALID_CONFIG', registry, 'expected "os" and "architecture" strings in the image config');
  }
  let user = '';
  let env: string[] = [];
  let labels: Record<string, string> = {};
  if (config !== undefined && config !== null) {
    if (!isObject(config)) throw bad('INVALID_CONFIG', registry, 'expected "config" to be an object in the image config');
    if (config.User !== undefined && config.User !== null) {
      if (typeof config.User !== 'string') throw bad('INVALID_CONFIG', registry, `expected config.User to be a string, got ${typeof config.User}`);
      user = config.User;
    }
    if (config.Env !== undefined && config.Env !== null) {
      if (!Array.isArray(config.Env) || !config.Env.every((e) => typeof e === 'string')) throw bad('INVALID_CONFIG', registry, 'expected config.Env to be an array of strings');
      env = config.Env as string[];
    }
    if (config.Labels !== undefined && config.Labels !== null) {
      if (!isObject(config.Labels) || !Object.values(config.Labels).every((v) => typeof v === 'string')) throw bad('INVALID_CONFIG', registry, 'expected config.Labels to be an object of strings');
      labels = config.Labels as Record<string, string>;
    }
  }
  return typeof variant === 'string' && variant !== '' ? { user, env, labels, os, architecture, variant } : { user, env, labels, os, architecture };
}
