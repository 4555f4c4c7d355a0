// portcullis serve's connection-limit flags: header, request and idle timeouts and the connection cap.
import { DEFAULT_CONNECTION_LIMITS } from '../server/limits.js';
import type { ConnectionLimits } from '../server/limits.js';

const d = DEFAULT_CONNECTION_LIMITS;

export const LIMIT_SERVE_USAGE = `  --header-timeout SEC   a client must finish the TLS handshake and send its request headers within this (default ${d.headerTimeoutMs / 1000})
  --request-timeout SEC  ... and its whole request, body included; an HTTP/2 stream is reset (default ${d.requestTimeoutMs / 1000})
  --idle-timeout SEC     an idle keep-alive connection or HTTP/2 session is closed after this (default ${d.idleTimeoutMs / 1000})
  --max-connections N    connections beyond N are closed at once (default ${d.maxConnections})`;

export const LIMIT_SERVE_FLAGS = {
  'header-timeout': { type: 'string', default: String(d.headerTimeoutMs / 1000) },
  'request-timeout': { type: 'string', default: String(d.requestTimeoutMs / 1000) },
  'idle-timeout': { type: 'string', default: String(d.idleTimeoutMs / 1000) },
  'max-connections': { type: 'string', default: String(d.maxConnections) },
} as const;

interface LimitFlags {
  'header-timeout': string;
  'request-timeout': string;
  'idle-timeout': string;
  'max-connections': string;
}

// A positive number of seconds, in ms.
function positiveSeconds(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${flag}: expected a positive number of seconds, got "${value}"`);
  return Math.round(n * 1000);
}

// Reads the limits from the flags; throws naming the flag when a value is not a positive number.
export function connectionLimitsFromFlags(values: LimitFlags): ConnectionLimits {
  const max = Number(values['max-connections']);
  if (!Number.isInteger(max) || max < 1) throw new Error(`--max-connections: expected a positive integer, got "${values['max-connections']}"`);
  return {
    headerTimeoutMs: positiveSeconds(values['header-timeout'], 'header-timeout'),
    requestTimeoutMs: positiveSeconds(values['request-timeout'], 'request-timeout'),
    idleTimeoutMs: positiveSeconds(values['idle-timeout'], 'idle-timeout'),
    maxConnections: max,
  };
}
