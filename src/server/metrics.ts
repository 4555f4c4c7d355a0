// Prometheus metrics for admissions, on a registry created once per server.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Decision } from '../engine/decision.js';
import { boundedLabel } from '../images/metrics.js';
import { SlotCounter, SlotHistogram } from '../metric-slots.js';
import type { CounterSlot, HistogramSlot } from '../metric-slots.js';

export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Distinct kind and operation label values kept (they come from the request body); later ones count as "other". */
export const MAX_REQUEST_LABELS = 32;

export interface AdmissionMetrics {
  observe(kind: string, operation: string, decision: Decision, seconds: number): void;
  rejected(code: string): void;
}

/** The series one kind and operation update: a request counter per result and the latency histogram of the kind. */
interface RequestSlots {
  readonly allowed: CounterSlot;
  readonly denied: CounterSlot;
  readonly skipped: CounterSlot;
  readonly latency: HistogramSlot;
}

// Creates the admission metrics on this registry: each review adds to slots found by its kind and operation (no
// label hashing or allocation per review).
export function createAdmissionMetrics(registry: Registry): AdmissionMetrics {
  const requests = new SlotCounter({
    name: 'portcullis_admission_requests_total',
    help: 'Admission reviews answered, by kind, operation and result',
    labelNames: ['kind', 'operation', 'result'],
    registry,
  });
  const violations = new SlotCounter({
    name: 'portcullis_policy_violations_total',
    help: 'Policy violations found at admission, by policy and effect (deny, warn, audit)',
    labelNames: ['policy', 'effect', 'would_deny'],
    registry,
  });
  const latency = new SlotHistogram({
    name: 'portcullis_admission_duration_seconds',
    help: 'Time from receiving an admission review to answering it',
    labelNames: ['kind'],
    buckets: LATENCY_BUCKETS,
    registry,
  });
  const bad = new SlotCounter({ name: 'portcullis_admission_bad_requests_total', help: 'Requests to /validate refused with a 4xx, by error code', labelNames: ['code'], registry });
  const kindLabel = boundedLabel(MAX_REQUEST_LABELS);
  const operationLabel = boundedLabel(MAX_REQUEST_LABELS);
  const slots = new Map<string, Map<string, RequestSlots>>();
  // The slots of a kind and operation (both already bounded), made on first use.
  const slotsOf = (kind: string, operation: string): RequestSlots => {
    let byOperation = slots.get(kind);
    if (!byOperation) slots.set(kind, (byOperation = new Map()));
    let s = byOperation.get(operation);
    if (!s) {
      const result = (r: string) => requests.slot({ kind, operation, result: r });
      byOperation.set(operation, (s = { allowed: result('allowed'), denied: result('denied'), skipped: result('skipped'), latency: latency.slot({ kind }) }));
    }
    return s;
  };
  return {
    observe(rawKind, rawOperation, decision, seconds) {
      const s = slotsOf(kindLabel(rawKind), operationLabel(rawOperation));
      (decision.skipped ? s.skipped : decision.allowed ? s.allowed : s.denied).inc();
      for (const v of decision.violations) violations.slot({ policy: v.policy, effect: v.effect, would_deny: String(v.wouldDeny) }).inc();
      s.latency.observe(seconds);
    },
    rejected(code) {
      bad.slot({ code }).inc();
    },
  };
}

// Serves GET /metrics from the registry and adds the process metrics.
export const metricsPlugin = fp<{ registry: Registry }>(
  async (app: FastifyInstance, { registry }) => {
    collectDefaultMetrics({ register: registry, prefix: 'portcullis_' });
    app.get('/metrics', async (_req, reply) => {
      reply.header('content-type', registry.contentType);
      return registry.metrics();
    });
  },
  { name: 'portcullis-metrics' },
);
