// portcullis serve's shutdown: drain, stop accepting, close, and exit within --shutdown-delay + --shutdown-grace
// whatever is still in flight.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Readiness } from '../server/health.js';
import type { Drain } from '../server/drain.js';

export interface ShutdownPlan {
  readonly app: FastifyInstance;
  readonly readiness: Readiness;
  readonly drain: Drain;
  readonly logger: Logger;
  readonly delayMs: number;
  readonly graceMs: number;
  /** process.exit (tests pass their own) */
  readonly exit?: (code: number) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

// Returns the signal handler: /readyz 503 and draining at once; after the delay no new connections; once every
// connection has closed (or the grace ran out) the app closes; the process exits at delay + grace at the latest.
export function shutdownHandler(plan: ShutdownPlan): (signal: string) => void {
  const { app, readiness, drain, logger, delayMs, graceMs } = plan;
  const exit = plan.exit ?? ((code: number) => process.exit(code));
  return (signal) => {
    if (!readiness.serving) return;
    readiness.serving = false;
    drain.begin();
    logger.info({ signal, delayMs, graceMs }, 'shutting down: /readyz now answers 503');
    // the last word: registry sockets, watches or timers still open do not keep the process alive past this
    setTimeout(() => {
      logger.warn({ graceMs }, 'grace period over; closing remaining connections');
      exit(0);
    }, delayMs + graceMs).unref();
    void (async () => {
      await sleep(delayMs);
      const graceOver = sleep(graceMs).then(() => 'grace over' as const);
      if ((await Promise.race([drain.stopAccepting(), graceOver])) === 'grace over') return; // the timer above exits
      if ((await Promise.race([app.close(), graceOver])) === 'grace over') return;
      logger.info('stopped');
      exit(0);
    })().catch((err: unknown) => {
      logger.error({ err }, 'error while stopping');
      exit(1);
    });
  };
}
