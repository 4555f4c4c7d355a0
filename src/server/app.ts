// Builds the fastify HTTPS app (HTTP/2 with HTTP/1.1 fallback); listening is the caller's job.
import Fastify, { LogController } from 'fastify';
import type { FastifyInstance, FastifyError } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Engine } from '../engine/evaluate.js';
import type { Decision } from '../engine/decision.js';
import type { AdmissionRequest } from '../admission/review.js';
import type { TlsSource } from './tls.js';
import { createAdmissionMetrics, metricsPlugin } from './metrics.js';
import { healthPlugin } from './health.js';
import type { Readiness } from './health.js';
import { validatePlugin } from './validate.js';
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

// Maps errors to JSON 4xx answers; anything unexpected is a 500 that is logged.
function errorHandler(this: FastifyInstance, err: FastifyError, request: { log: Logger }, reply: { code(n: number): { send(b: unknown): unknown } }) {
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
  if (status === 500) request.log.error({ err }, 'unexpected error');
  return reply.code(status).send({
    error: status === 500 ? 'Internal Server Error' : 'Bad Request',
    code: err.code ?? 'ERROR',
    message: status === 500 ? 'internal error' : err.message,
  });
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
  app.setErrorHandler(errorHandler as never);
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
    metrics: createAdmissionMetrics(options.metrics),
    ...(options.onDecision ? { onDecision: options.onDecision } : {}),
  });
  return { app, readiness, drain };
}
