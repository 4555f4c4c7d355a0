// Builds the fastify HTTPS app (HTTP/2 with HTTP/1.1 fallback); listening is the caller's job.
import Fastify, { LogController } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Engine } from '../engine/evaluate.js';
import type { Decision } from '../engine/decision.js';
import type { AdmissionRequest } from '../admission/review.js';
import type { TlsSource } from './tls.js';
import { createAdmissionMetrics, metricsPlugin } from './metrics.js';
import type { AdmissionMetrics } from './metrics.js';
import { healthPlugin } from './health.js';
import type { Readiness } from './health.js';
import { validatePlugin } from './validate.js';
import { mutatePlugin } from './mutate.js';
import { registerJsonParser, MAX_BODY_BYTES } from './json.js';
import { DEFAULT_CONNECTION_LIMITS, applyConnectionLimits, connectionLimitOptions, limitHttp2Requests } from './limits.js';
import type { ConnectionLimits } from './limits.js';
import { createDrain, drainPlugin } from './drain.js';
import type { Drain } from './drain.js';

export interface AppOptions {
  readonly engine: Engine;
  readonly tls: TlsSource;
  readonly logger: Logger;
  readonly metrics: Registry;
  /** called after each admission decision (owner events) */
  readonly onDecision?: (review: AdmissionRequest, decision: Decision) => void;
  /** extra readiness checks (config loaded, ...) */
  readonly notReadyReasons?: () => string[];
  /** header, request and idle timeouts, connection cap (DEFAULT_CONNECTION_LIMITS when left out) */
  readonly limits?: ConnectionLimits;
}

export interface PortcullisApp {
  readonly app: FastifyInstance;
  readonly readiness: Readiness;
  /** shutdown: answers close their connections, then stop accepting (serve's SIGTERM handler) */
  readonly drain: Drain;
}

/** Public codes for fastify's own body errors (the answer's `code` and the bad-requests metric label). */
const FASTIFY_CODES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_CONTENT_LENGTH',
};

// Maps errors to JSON 4xx answers named by their status (counted for /validate); anything unexpected is a logged 500.
function errorHandlerFor(metrics: AdmissionMetrics) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) request.log.error({ err }, 'unexpected error');
    const code = FASTIFY_CODES[err.code] ?? err.code ?? 'ERROR';
    if (status !== 500 && request.url.startsWith('/validate')) metrics.rejected(code);
    // fastify asks to close the connection after a body error; HTTP/2 has no such header (Node warns about it)
    if (request.raw.httpVersionMajor === 2) reply.removeHeader('connection');
    return reply.code(status).send({ error: STATUS_CODES[status] ?? 'Error', code, message: status === 500 ? 'internal error' : err.message });
  };
}

export async function buildApp(options: AppOptions): Promise<PortcullisApp> {
  const { tls } = options;
  const material = tls.current();
  const limits = options.limits ?? DEFAULT_CONNECTION_LIMITS;
  const limitOptions = connectionLimitOptions(limits);
  const app = Fastify({
    loggerInstance: options.logger,
    http2: true,
    https: { allowHTTP1: true, key: material.key, cert: material.cert, minVersion: 'TLSv1.2', ...limitOptions.https },
    ...limitOptions.fastify,
    bodyLimit: MAX_BODY_BYTES,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }) as unknown as FastifyInstance;
  applyConnectionLimits(app.server, limits);
  limitHttp2Requests(app, limits);
  const drain = createDrain(app.server);
  registerJsonParser(app);
  const admissionMetrics = createAdmissionMetrics(options.metrics);
  app.setErrorHandler(errorHandlerFor(admissionMetrics) as never);
  const readiness: Readiness = { serving: true, reasons: () => options.notReadyReasons?.() ?? [] };
  tls.onChange((next) => {
    (app.server as unknown as { setSecureContext(o: { key: string; cert: string }): void }).setSecureContext({ key: next.key, cert: next.cert });
  });
  app.addHook('onClose', async () => tls.close());
  await app.register(drainPlugin, { drain });
  await app.register(healthPlugin, { readiness });
  await app.register(metricsPlugin, { registry: options.metrics });
  await app.register(validatePlugin, {
    engine: options.engine,
    metrics: admissionMetrics,
    ...(options.onDecision ? { onDecision: options.onDecision } : {}),
  });
  await app.register(mutatePlugin, { engine: options.engine, metrics: admissionMetrics, registry: options.metrics });
  return { app, readiness, drain };
}
