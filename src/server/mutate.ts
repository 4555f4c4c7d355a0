// POST /mutate and /mutate/audit: pin a Pod's images to the digest portcullis checks (JSON Patch), never refusing.
import fp from 'fastify-plugin';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import { encodeMutation } from '../admission/review.js';
import type { AdmissionRequest } from '../admission/review.js';
import { lookupDeadline } from '../admission/deadline.js';
import { evaluationInput, receive } from './receive.js';
import { pinPatch } from '../admission/patch.js';
import type { Engine } from '../engine/evaluate.js';
import { NOT_PINNED, PINNING_ID } from '../engine/pinning.js';
import type { PinPlan } from '../engine/pinning.js';
import { settleBy } from '../engine/deadline.js';
import { containerLabel } from '../engine/decision.js';
import { getOrCreate } from '../images/metrics.js';
import type { AdmissionMetrics } from './metrics.js';

export interface MutateOptions {
  readonly engine: Engine;
  readonly metrics: AdmissionMetrics;
  readonly registry: Registry;
}

type PinResult = 'pinned' | 'would-pin' | 'failed';

function pinCounter(registry: Registry): Counter<'result'> {
  return getOrCreate(registry, 'portcullis_pinned_images_total', () =>
    new Counter({ name: 'portcullis_pinned_images_total', help: 'Pod images pinned to a digest by /mutate (pinned), only reported in audit mode or dry runs (would-pin), or left unpinned after a registry error (failed)', labelNames: ['result'] as const, registers: [registry] }),
  );
}

// Asks the engine for the pin plan, settled before the answer deadline; an engine failure pins nothing.
async function planFor(engine: Engine, review: AdmissionRequest, forceAudit: boolean, receivedAt: number, deadline: number, log: FastifyBaseLogger): Promise<PinPlan> {
  try {
    const pending = engine.pin(evaluationInput(review, forceAudit), { deadline: lookupDeadline(receivedAt, deadline) });
    return pending instanceof Promise ? await settleBy(pending, deadline, () => NOT_PINNED('no digest before the API server timeout')) : pending;
  } catch (err) {
    log.error({ err, uid: review.uid }, 'pinning failed; answering without a patch');
    return NOT_PINNED('internal error');
  }
}

// The warnings of a plan: what would have been pinned (audit, dry run) and what could not be.
function warningsOf(plan: PinPlan, dryRun: boolean): string[] {
  const why = dryRun ? 'dry run' : 'audit mode';
  const would = plan.apply ? [] : plan.pinned.map((p) => `[${PINNING_ID}] ${why}, not pinned: ${containerLabel(p.container)}: ${p.from} would be pinned to ${p.to}`);
  const failed = plan.failed.map((f) => `[${PINNING_ID}] ${containerLabel(f.container)}: image "${f.image}" not pinned: ${f.reason} — the validating webhook checks it as it is`);
  return [...would, ...failed];
}

export const mutatePlugin = fp<MutateOptions>(
  async (app: FastifyInstance, { engine, metrics, registry }) => {
    const pins = pinCounter(registry);
    const count = (result: PinResult, n: number) => n > 0 && pins.inc({ result }, n);
    const handle = (forceAudit: boolean) => async (request: FastifyRequest, reply: FastifyReply) => {
      const received = receive(request, reply, metrics);
      if (!received) return reply;
      const { review, receivedAt, deadline } = received;
      const plan = await planFor(engine, review, forceAudit, receivedAt, deadline, request.log);
      const applied = plan.apply ? plan.pinned : [];
      const patch = pinPatch(
        review.object,
        applied.map((p) => ({ list: p.container.list, index: p.container.index, name: p.container.name, image: p.from, digest: p.digest })),
        review.subresource === undefined,
      );
      count('pinned', applied.length);
      count('would-pin', plan.apply ? 0 : plan.pinned.length);
      count('failed', plan.failed.length);
      if (applied.length > 0) {
        // one string, not an array of objects: pino writes it as it is (an array of objects costs more than the pinning)
        const pinned = applied.map((p) => `${p.container.name}: ${p.from} -> ${p.to}`).join('; ');
        request.log.info({ uid: review.uid, namespace: review.namespace, pod: podName(review), pinned }, 'images pinned');
      }
      if (plan.failed.length > 0) {
        request.log.warn({ uid: review.uid, namespace: review.namespace, pod: podName(review), failed: plan.failed.map((f) => f.container.name) }, 'images not pinned');
      }
      return reply.send(encodeMutation(review, patch, warningsOf(plan, review.dryRun)));
    };
    app.post('/mutate', handle(false));
    app.post('/mutate/audit', handle(true));
  },
  { name: 'portcullis-mutate' },
);

// The Pod's name, or its generateName prefix while the API server has not named it yet.
function podName(review: AdmissionRequest): string | undefined {
  if (review.name) return review.name;
  const metadata = (review.object as { metadata?: { generateName?: unknown } } | null)?.metadata;
  return typeof metadata?.generateName === 'string' ? metadata.generateName : undefined;
}
