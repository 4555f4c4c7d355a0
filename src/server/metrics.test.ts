import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MAX_REQUEST_LABELS, createAdmissionMetrics } from './metrics.js';
import type { Decision } from '../engine/decision.js';

const allowed = { allowed: true, skipped: false, violations: [] } as unknown as Decision;

describe('admission metrics', () => {
  it('keeps kind and operation labels from request bodies bounded: later values count as "other"', async () => {
    const registry = new Registry();
    const metrics = createAdmissionMetrics(registry);
    for (let i = 0; i < 1000; i++) metrics.observe(`Kind${i}`, `OP${i}`, allowed, 0.001);
    const series = (await registry.getSingleMetric('portcullis_admission_requests_total')!.get()).values;
    expect(series.length).toBe(MAX_REQUEST_LABELS + 1);
    expect(series.find((v) => v.labels.kind === 'other')).toMatchObject({ value: 1000 - MAX_REQUEST_LABELS, labels: { operation: 'other' } });
  });
});
