// Slot metrics read exactly as prom-client's own counters and histograms given the same updates.
import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SlotCounter, SlotHistogram } from './metric-slots.js';

const BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.1, 1];
const update = fc.record({ cache: fc.constantFrom('tag', 'manifest', 'facts'), hit: fc.constantFrom('true', 'false'), value: fc.oneof(fc.double({ min: 0, max: 5, noNaN: true }), fc.constantFrom(0.001, 1, 10)) });

// Both registries after the same updates.
function exposed(updates: ReadonlyArray<{ cache: string; hit: string; value: number }>): Promise<[string, string]> {
  const ours = new Registry();
  const theirs = new Registry();
  const c = new SlotCounter({ name: 'x_total', help: 'x', labelNames: ['cache', 'hit'], registry: ours });
  const h = new SlotHistogram({ name: 'x_seconds', help: 'y', labelNames: ['cache'], buckets: BUCKETS, registry: ours });
  const pc = new Counter({ name: 'x_total', help: 'x', labelNames: ['cache', 'hit'], registers: [theirs] });
  const ph = new Histogram({ name: 'x_seconds', help: 'y', labelNames: ['cache'], buckets: BUCKETS, registers: [theirs] });
  for (const u of updates) {
    c.slot({ cache: u.cache, hit: u.hit }).inc();
    h.slot({ cache: u.cache }).observe(u.value);
    pc.inc({ cache: u.cache, hit: u.hit });
    ph.observe({ cache: u.cache }, u.value);
  }
  return Promise.all([ours.metrics(), theirs.metrics()]);
}

describe('slot metrics', () => {
  it('expose what prom-client exposes for the same updates', async () => {
    await fc.assert(fc.asyncProperty(fc.array(update, { maxLength: 40 }), async (updates) => {
      const [ours, theirs] = await exposed(updates);
      expect(ours).toBe(theirs);
    }), { numRuns: 300 });
  });

  it('are found by name on the registry and reset with it', async () => {
    const registry = new Registry();
    const c = new SlotCounter({ name: 'y_total', help: 'y', labelNames: ['result'], registry });
    c.slot({ result: 'ok' }).inc(2);
    expect(registry.getSingleMetric('y_total')).toBe(c);
    expect(await registry.metrics()).toContain('y_total{result="ok"} 2');
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('y_total{result="ok"}');
    c.slot({ result: 'ok' }).inc();
    expect(await registry.metrics()).toContain('y_total{result="ok"} 1');
  });
});
