// What /validate and /mutate do first: decode the review (a 400 when it is not one) and work out its deadlines.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { decodeReview, AdmissionError } from '../admission/review.js';
import type { AdmissionRequest } from '../admission/review.js';
import { deadlineFor } from '../admission/deadline.js';
import type { EvaluationInput } from '../engine/evaluate.js';
import type { AdmissionMetrics } from './metrics.js';

export interface Received {
  readonly review: AdmissionRequest;
  readonly receivedAt: number;
  /** when the answer must be sent (the API server's ?timeout= less a margin) */
  readonly deadline: number;
}

// Decodes the request's review; answers 400 and returns undefined when it is not a valid AdmissionReview.
export function receive(request: FastifyRequest, reply: FastifyReply, metrics: AdmissionMetrics): Received | undefined {
  const receivedAt = Date.now();
  const deadline = deadlineFor(receivedAt, (request.query as Record<string, unknown> | undefined)?.timeout);
  try {
    const review = decodeReview(request.body);
    // the handler holds the review; the request object lives on with its keep-alive connection until the next
    // request on it, and a parsed body kept that long (with the body text its strings are slices of) outlives two
    // young-generation collections under load and is promoted to the old generation
    request.body = undefined;
    return { review, receivedAt, deadline };
  } catch (err) {
    if (!(err instanceof AdmissionError)) throw err;
    metrics.rejected(err.code);
    void reply.code(400).send({ error: 'Bad Request', code: err.code, message: err.message });
    return undefined;
  }
}

// The engine's input for a review.
export function evaluationInput(review: AdmissionRequest, forceAudit: boolean): EvaluationInput {
  return {
    group: review.group,
    kind: review.kind,
    operation: review.operation,
    object: review.object,
    forceAudit,
    dryRun: review.dryRun,
    ...(review.namespace ? { namespace: review.namespace } : {}),
    ...(review.subresource ? { subresource: review.subresource } : {}),
    ...(review.oldObject !== undefined ? { oldObject: review.oldObject } : {}),
  };
}
