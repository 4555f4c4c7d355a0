// POST /validate and /validate/audit: decode the review, ask the engine, answer before the deadline.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { encodeReview } from '../admission/review.js';
import type { AdmissionRequest } from '../admission/review.js';
import { lookupDeadline } from '../admission/deadline.js';
import { evaluationInput, receive } from './receive.js';
import type { Engine } from '../engine/evaluate.js';
import type { Decision } from '../engine/decision.js';
import { refused } from '../engine/decision.js';
import { settleBy } from '../engine/deadline.js';
import type { AdmissionMetrics } from './metrics.js';

export interface ValidateOptions {
  readonly engine: Engine;
  readonly metrics: AdmissionMetrics;
  /** called after each decision; must return at once (owner events enqueue and work off the hot path) */
  readonly onDecision?: (review: AdmissionRequest, decision: Decision) => void;
}

const NO_DECISION_IN_TIME = '[portcullis] request: no decision before the API server timeout — retry; if it persists, check registry reachability';

// Runs the engine: a decision at once when no look-up is needed, else one raced against the deadline; look-ups
// settle earlier (lookupDeadline) so the policies still decide with their onError.
function decideBefore(engine: Engine, req: AdmissionRequest, forceAudit: boolean, receivedAt: number, deadline: number): Decision | Promise<Decision> {
  const pending = engine.evaluate({ ...evaluationInput(req, forceAudit), checkPinned: true }, { deadline: lookupDeadline(receivedAt, deadline) });
  return pending instanceof Promise ? settleBy(pending, deadline, () => refused(NO_DECISION_IN_TIME, 'deadline-exceeded')) : pending;
}

function violationCounts(decision: Decision): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of decision.violations) counts[v.policy] = (counts[v.policy] ?? 0) + 1;
  return counts;
}

// Logs the decision: with findings at info, clean and skipped ones at debug (metrics count them all); the line's
// object is built only when its level is enabled (clean decisions at the default info level are not written).
function logDecision(log: Logger, review: AdmissionRequest, decision: Decision, seconds: number): void {
  const level = decision.violations.length > 0 || !decision.allowed || decision.exceptions ? 'info' : 'debug';
  if (!log.isLevelEnabled(level)) return;
  log[level](
    {
      uid: review.uid,
      kind: review.kind,
      namespace: review.namespace,
      name: review.name,
      operation: review.operation,
      subresource: review.subresource,
      user: review.username,
      dryRun: review.dryRun,
      allowed: decision.allowed,
      skipped: decision.skipped,
      violations: violationCounts(decision),
      ...(decision.exceptions ? { exceptions: [...new Set(decision.exceptions.map((u) => u.exception))] } : {}),
      durationMs: Math.round(seconds * 1e6) / 1000,
    },
    'admission decision',
  );
}

export const validatePlugin = fp<ValidateOptions>(
  async (app: FastifyInstance, { engine, metrics, onDecision }) => {
    const handle = (forceAudit: boolean) => async (request: FastifyRequest, reply: FastifyReply) => {
      const received = receive(request, reply, metrics);
      if (!received) return reply;
      const { review, receivedAt, deadline } = received;
      const pending = decideBefore(engine, review, forceAudit, receivedAt, deadline);
      const decision = pending instanceof Promise ? await pending : pending;
      const seconds = (Date.now() - receivedAt) / 1000;
      metrics.observe(review.kind, review.operation, decision, seconds);
      onDecision?.(review, decision);
      logDecision(request.log as Logger, review, decision, seconds);
      return reply.send(encodeReview(review, decision));
    };
    app.post('/validate', handle(false));
    app.post('/validate/audit', handle(true));
  },
  { name: 'portcullis-validate' },
);
