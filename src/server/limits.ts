// Connection limits of the HTTPS server: how long a client may take to send headers and a request, how long an
// idle connection is kept, and how many connections are open at once.
import { constants as h2 } from 'node:http2';
import type { ServerHttp2Stream } from 'node:http2';
import type { Server } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

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

const STREAM_TIMER = Symbol('portcullis.streamTimer');
type Timed = FastifyRequest & { [STREAM_TIMER]?: NodeJS.Timeout };

// node's request timeout covers HTTP/1.1 only: an HTTP/2 stream whose request has not fully arrived within the
// request timeout is reset (RST_STREAM CANCEL); the session's other streams go on.
export function limitHttp2Requests(app: FastifyInstance, limits: ConnectionLimits): void {
  app.addHook('onRequest', (request: Timed, _reply: FastifyReply, done: () => void) => {
    const stream = (request.raw as { stream?: ServerHttp2Stream }).stream;
    if (stream) {
      request[STREAM_TIMER] = setTimeout(() => {
        if (!stream.destroyed) stream.close(h2.NGHTTP2_CANCEL);
      }, limits.requestTimeoutMs).unref();
    }
    done();
  });
  const clear = (request: Timed, _reply: FastifyReply, done: () => void) => {
    clearTimeout(request[STREAM_TIMER]);
    done();
  };
  app.addHook('preHandler', clear); // the body has arrived
  app.addHook('onResponse', clear); // answered without reaching a handler (bad body, 404)
}
