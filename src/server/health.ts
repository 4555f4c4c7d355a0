// Liveness and readiness: /healthz answers while the process runs, /readyz while it can admit.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

export interface Readiness {
  /** false once shutdown has begun */
  serving: boolean;
  /** the reasons the server is not ready, empty when it is */
  reasons(): string[];
}

export const healthPlugin = fp<{ readiness: Readiness }>(
  async (app: FastifyInstance, { readiness }) => {
    app.get('/healthz', async () => ({ status: 'ok' }));
    app.get('/readyz', async (_req, reply) => {
      const reasons = readiness.serving ? readiness.reasons() : ['shutting down'];
      if (reasons.length > 0) return reply.code(503).send({ status: 'not ready', reasons });
      return { status: 'ready' };
    });
  },
  { name: 'portcullis-health' },
);
