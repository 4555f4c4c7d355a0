// Draining at shutdown: every answer closes its connection (HTTP/1.1 `Connection: close`, HTTP/2 GOAWAY), so the
// API server's keep-alive pool moves to other replicas, while requests on connections still open are answered.
import { Server as TlsServer } from 'node:tls';
import type { Http2Session } from 'node:http2';
import type { Server } from 'node:net';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface Drain {
  /** true once begin() was called */
  readonly draining: boolean;
  /** from now on, answers close their connection; open HTTP/2 sessions get GOAWAY at once */
  begin(): void;
  /** stops accepting connections without closing open ones; resolves once every connection has closed */
  stopAccepting(): Promise<void>;
}

// Tracks HTTP/2 sessions and the draining state of one server.
export function createDrain(server: Server): Drain {
  const sessions = new Set<Http2Session>();
  let draining = false;
  server.on('session', (session: Http2Session) => {
    if (draining) return void session.close();
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  return {
    get draining() {
      return draining;
    },
    begin() {
      draining = true;
      for (const session of sessions) session.close(); // GOAWAY; streams already open finish
    },
    stopAccepting() {
      // tls.Server's close, not the http2 server's: that one also closes idle keep-alive connections, and a request
      // the client is sending on one at that moment would be reset
      return new Promise<void>((resolve) => {
        TlsServer.prototype.close.call(server, () => resolve());
      });
    },
  };
}

// Marks each answer given while draining so the client does not reuse its connection (a callback hook: no promise
// per request on the hot path).
function closeConnection(drain: Drain) {
  return (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void) => {
    if (drain.draining) {
      const stream = (request.raw as { stream?: { session?: Http2Session } }).stream;
      if (stream?.session) stream.session.close();
      else reply.header('connection', 'close');
    }
    done(null, payload);
  };
}

export const drainPlugin = fp<{ drain: Drain }>(
  async (app: FastifyInstance, { drain }) => {
    app.addHook('onSend', closeConnection(drain));
  },
  { name: 'portcullis-drain' },
);
