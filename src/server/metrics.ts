// Prometheus metrics for admissions, on a registry created once per server.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, collectDefaultMetrics } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Decision } from '../engine/decision.js';
import { boundedLabel } from '../images/metrics.js';

export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Distinct kind and operation label values kept (they come from the request body); later ones count as "other". */
export const MAX_REQUEST_LABELS = 32;

export interface AdmissionMetrics {
  observe(kind: string, operation: string, decision: Decision, seconds: number): void;
  rejected(code: string): void;
}

// Creates the admission metrics on this registry.
export function createAdmissionMetrics(registry: Registry): AdmissionMetrics {
  const requests = new Counter({
    name: 'portcullis_admission_requests_total',
    help: 'Admission reviews answered, by kind, operation and result',
    labelNames: ['kind', 'operation', 'result'] as const,
    registers: [registry],
  });
  const violations = new Counter({
    name: 'portcullis_policy_violations_total',
    help: 'Policy violations found at admission, by policy and effect (deny, warn, audit)',
    labelNames: ['policy', 'effect', 'would_deny'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'portcullis_admission_duration_seconds',
    help: 'Time from receiving an admission review to answering it',
    labelNames: ['kind'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const bad = new Counter({
    name: 'portcullis_admission_bad_requests_total',
    help: 'Requests to /validate refused with a 4xx, by error code',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const kindLabel = boundedLabel(MAX_REQUEST_LABELS);
  const operationLabel = boundedLabel(MAX_REQUEST_LABELS);
  return {
    observe(rawKind, rawOperation, decision, seconds) {
      const result = decision.skipped ? 'skipped' : decision.allowed ? 'allowed' : 'denied';
      const kind = kindLabel(rawKind);
      const operation = operationLabel(rawOperation);
      requests.inc({ kind, operation, result });
      for (const v of decision.violations) violations.inc({ policy: v.policy, effect: v.effect, would_deny: String(v.wouldDeny) });
      latency.observe({ kind }, seconds);
    },
    rejected(code) {
      bad.inc({ code });
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
