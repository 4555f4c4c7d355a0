// One RegistryClient built from registry options, to share between the image facts source and the signature
// verifier (same TLS, credentials, per-registry limits and request metrics).

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { RegistryClient } from './client.js';
import { loadDockerConfig } from './credentials.js';
import { createImageMetrics } from './metrics.js';
import type { RegistryOptions } from './options.js';

// Builds the client the way the image facts source does; the caller closes it.
export function createRegistryClient(options: RegistryOptions, deps: { logger?: Logger; metrics?: Registry } = {}): RegistryClient {
  const metrics = createImageMetrics(deps.metrics);
  return new RegistryClient({
    insecure: options.insecure,
    ...(options.caFile ? { caFile: options.caFile } : {}),
    ...(options.dockerConfig ? { dockerConfig: loadDockerConfig(options.dockerConfig) } : {}),
    concurrencyPerRegistry: options.concurrencyPerRegistry,
    maxResponseBytes: options.maxResponseBytes,
    ...(deps.logger ? { logger: deps.logger.child({ component: 'registry' }) } : {}),
    observe: (registry, status) => metrics.request(registry, status),
  });
}
