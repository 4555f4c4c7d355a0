// Typed registry failures: every error the image client returns carries one of these codes.
import { PortcullisError } from '../errors.js';

export type RegistryErrorCode =
  | 'INVALID_REFERENCE'
  | 'REGISTRY_UNREACHABLE'
  | 'REGISTRY_TIMEOUT'
  | 'REGISTRY_HTTP_STATUS'
  | 'REGISTRY_UNAUTHORIZED'
  | 'REGISTRY_NOT_FOUND'
  | 'REGISTRY_RATE_LIMITED'
  | 'DIGEST_MISMATCH'
  | 'RESPONSE_TOO_LARGE'
  | 'INVALID_MANIFEST'
  | 'INVALID_CONFIG'
  | 'PLATFORM_NOT_FOUND'
  | 'TOO_MANY_REDIRECTS'
  | 'TOKEN_INVALID'
  | 'SOURCE_CLOSED'
  | 'REGISTRY_DISABLED';

export interface RegistryErrorDetails {
  /** registry host the failure came from */
  registry?: string;
  /** HTTP status for REGISTRY_HTTP_STATUS / RATE_LIMITED / UNAUTHORIZED / NOT_FOUND */
  status?: number;
  /** tries made before giving up */
  tries?: number;
  /** false when trying again cannot help (e.g. an untrusted TLS certificate) */
  transient?: boolean;
  cause?: unknown;
}

export class RegistryError extends PortcullisError<RegistryErrorCode> {
  readonly registry: string | undefined;
  readonly status: number | undefined;
  readonly tries: number | undefined;
  readonly transient: boolean;
  constructor(code: RegistryErrorCode, message: string, details: RegistryErrorDetails = {}) {
    super(code, message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.registry = details.registry;
    this.status = details.status;
    this.tries = details.tries;
    this.transient = details.transient ?? TRANSIENT_CODES.has(code);
  }
}

// Codes that say the registry may answer differently on a later try.
export const TRANSIENT_CODES: ReadonlySet<RegistryErrorCode> = new Set([
  'REGISTRY_UNREACHABLE',
  'REGISTRY_TIMEOUT',
  'REGISTRY_HTTP_STATUS',
  'REGISTRY_RATE_LIMITED',
]);

// Wraps anything thrown into a RegistryError, keeping RegistryErrors as they are.
export function toRegistryError(err: unknown, fallback: RegistryErrorCode, registry: string): RegistryError {
  if (err instanceof RegistryError) return err;
  const text = err instanceof Error ? err.message : String(err);
  return new RegistryError(fallback, `${registry}: ${text}`, { registry, cause: err });
}
