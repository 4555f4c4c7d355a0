// Registry client settings, their defaults, and the JSON Schema the config file embeds.

import { DURATION_PATTERN, parseDuration } from '../duration.js';
import { parsePlatform, type Platform } from './platform.js';
import { PortcullisError } from '../errors.js';

export interface RegistryCacheOptions {
  /** how long results keyed by digest are kept (they never change) */
  digestTtl: string;
  /** how long a tag -> digest resolution is trusted */
  tagTtl: string;
  /** how long a failed look-up is answered from cache */
  failureTtl: string;
  maxEntries: number;
  maxBytes: number;
}

export interface RegistryOptions {
  enabled: boolean;
  /** registries (host[:port]) spoken to over plain HTTP */
  insecure: string[];
  /** PEM file with extra CAs trusted for registry TLS, on top of the system CAs */
  caFile?: string;
  /** path of a docker config.json with `auths` */
  dockerConfig?: string;
  /** whether the engine should pass the pod's imagePullSecrets as per-look-up credentials */
  usePullSecrets: boolean;
  /** longest a single look-up may take, whatever deadline the caller gives */
  timeout: string;
  /** platform chosen from multi-arch images when the caller does not say */
  platform: string;
  cache: RegistryCacheOptions;
  concurrencyPerRegistry: number;
  maxResponseBytes: number;
}

export type RegistryOptionsInput = Partial<Omit<RegistryOptions, 'cache'>> & { cache?: Partial<RegistryCacheOptions> };

export const DEFAULT_REGISTRY_OPTIONS: Readonly<RegistryOptions> = Object.freeze({
  enabled: true,
  insecure: [],
  usePullSecrets: false,
  timeout: '3s',
  platform: 'linux/amd64',
  cache: { digestTtl: '24h', tagTtl: '5m', failureTtl: '10s', maxEntries: 10000, maxBytes: 16777216 },
  concurrencyPerRegistry: 16,
  maxResponseBytes: 4194304,
});

const duration = { type: 'string', pattern: DURATION_PATTERN } as const;

export const registryOptionsSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://portcullis.dev/schemas/registry-options.json',
  title: 'registry',
  description: 'Image registry look-ups (image facts such as the config User).',
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean', default: true },
    insecure: {
      type: 'array',
      items: { type: 'string', minLength: 1, maxLength: 261 },
      default: [],
      description: 'registries (host[:port]) spoken to over plain HTTP',
    },
    caFile: { type: 'string', minLength: 1, description: 'PEM file of extra CAs for registry TLS' },
    dockerConfig: { type: 'string', minLength: 1, description: 'path of a docker config.json with auths' },
    usePullSecrets: { type: 'boolean', default: false },
    timeout: { ...duration, default: '3s', description: 'longest single look-up' },
    platform: { type: 'string', pattern: '^[a-z0-9_.-]+/[a-z0-9_.-]+(/[a-z0-9_.-]+)?$', default: 'linux/amd64' },
    cache: {
      type: 'object',
      additionalProperties: false,
      properties: {
        digestTtl: { ...duration, default: '24h' },
        tagTtl: { ...duration, default: '5m' },
        failureTtl: { ...duration, default: '10s' },
        maxEntries: { type: 'integer', minimum: 1, default: 10000 },
        maxBytes: { type: 'integer', minimum: 1024, default: 16777216, description: 'bytes all image-facts caches may hold together (digests 1/2, tags 1/2; failures 1/8)' },
      },
    },
    concurrencyPerRegistry: { type: 'integer', minimum: 1, maximum: 1024, default: 16 },
    maxResponseBytes: { type: 'integer', minimum: 1024, maximum: 268435456, default: 4194304 },
  },
} as const;

export class RegistryOptionsError extends PortcullisError<'REGISTRY_OPTIONS_INVALID'> {
  constructor(message: string) {
    super('REGISTRY_OPTIONS_INVALID', message);
  }
}

// Fills defaults and checks values; throws RegistryOptionsError naming the bad key.
export function resolveRegistryOptions(partial: RegistryOptionsInput = {}): RegistryOptions {
  const d = DEFAULT_REGISTRY_OPTIONS;
  const out: RegistryOptions = {
    enabled: partial.enabled ?? d.enabled,
    insecure: [...(partial.insecure ?? d.insecure)],
    usePullSecrets: partial.usePullSecrets ?? d.usePullSecrets,
    timeout: partial.timeout ?? d.timeout,
    platform: partial.platform ?? d.platform,
    cache: { ...d.cache, ...(partial.cache ?? {}) },
    concurrencyPerRegistry: partial.concurrencyPerRegistry ?? d.concurrencyPerRegistry,
    maxResponseBytes: partial.maxResponseBytes ?? d.maxResponseBytes,
    ...(partial.caFile !== undefined ? { caFile: partial.caFile } : {}),
    ...(partial.dockerConfig !== undefined ? { dockerConfig: partial.dockerConfig } : {}),
  };
  for (const key of ['timeout', 'cache.digestTtl', 'cache.tagTtl', 'cache.failureTtl'] as const) {
    const value = key === 'timeout' ? out.timeout : out.cache[key.slice(6) as 'digestTtl' | 'tagTtl' | 'failureTtl'];
    try {
      parseDuration(value);
    } catch {
      throw new RegistryOptionsError(`registry.${key}: expected a duration like "3s", got ${JSON.stringify(value)}`);
    }
  }
  try {
    parsePlatform(out.platform);
  } catch {
    throw new RegistryOptionsError(`registry.platform: expected "os/arch[/variant]", got ${JSON.stringify(out.platform)}`);
  }
  const positive = (name: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new RegistryOptionsError(`registry.${name}: expected an integer >= ${min}, got ${v}`);
  };
  positive('concurrencyPerRegistry', out.concurrencyPerRegistry, 1);
  positive('maxResponseBytes', out.maxResponseBytes, 1024);
  positive('cache.maxEntries', out.cache.maxEntries, 1);
  positive('cache.maxBytes', out.cache.maxBytes, 1024);
  if (!Array.isArray(out.insecure) || !out.insecure.every((h) => typeof h === 'string' && h.length > 0)) {
    throw new RegistryOptionsError('registry.insecure: expected a list of host[:port] strings');
  }
  return out;
}

// The durations of resolved options, in milliseconds.
export interface RegistryTimings {
  timeoutMs: number;
  digestTtlMs: number;
  tagTtlMs: number;
  failureTtlMs: number;
  defaultPlatform: Platform;
}

export function registryTimings(o: RegistryOptions): RegistryTimings {
  return {
    timeoutMs: parseDuration(o.timeout),
    digestTtlMs: parseDuration(o.cache.digestTtl),
    tagTtlMs: parseDuration(o.cache.tagTtl),
    failureTtlMs: parseDuration(o.cache.failureTtl),
    defaultPlatform: parsePlatform(o.platform),
  };
}
