// Connection limits of the HTTPS server: how long a client may take to send headers and a request, how long an
// idle connection is kept, and how many connections are open at once.
import type { Server } from 'node:net';

export interface ConnectionLimits {
  /** TLS handshake plus request headers must arrive within this (ms) */
  readonly headerTimeoutMs: number;
  /** the whole request, body included, must arrive within this (ms) */
  readonly requestTimeoutMs: number;
  /** an idle HTTP/1.1 keep-alive connection or HTTP/2 session is closed after this (ms) */
  readonly idleTimeoutMs: number;
  /** connections beyond this are closed as soon as they are accepted */
  readonly maxConnections: number;
}

/** Defaults: the idle timeout outlasts kube-apiserver's 90 s idle-connection timeout, so the client closes first. */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = Object.freeze({
  headerTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 120_000,
  maxConnections: 512,
});

// How often node checks the header and request timeouts of open connections (its default is every 30 s).
function checkIntervalMs(limits: ConnectionLimits): number {
  return Math.max(50, Math.min(1000, Math.floor(Math.min(limits.headerTimeoutMs, limits.requestTimeoutMs) / 4)));
}

/** The fastify and TLS server options that carry the limits (the rest is set on the server by applyConnectionLimits). */
export function connectionLimitOptions(limits: ConnectionLimits) {
  return {
    fastify: { http2SessionTimeout: limits.idleTimeoutMs, connectionTimeout: 0 },
    https: { handshakeTimeout: limits.headerTimeoutMs, connectionsCheckingInterval: checkIntervalMs(limits) },
  };
}

interface HttpTimeouts {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
}

// Sets the HTTP/1.1 timeouts and the connection cap on the server (node's http2 server with allowHTTP1 honours them).
export function applyConnectionLimits(server: Server, limits: ConnectionLimits): void {
  const http = server as Server & HttpTimeouts;
  http.headersTimeout = limits.headerTimeoutMs;
  http.requestTimeout = Math.max(limits.requestTimeoutMs, limits.headerTimeoutMs);
  http.keepAliveTimeout = limits.idleTimeoutMs;
  server.maxConnections = limits.maxConnections;
}
