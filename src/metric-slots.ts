// Counters and histograms that the admission path updates many times per review (cache hits, verification results):
// each label set is a slot made once, and an update is an addition to it. prom-client's own metrics hash the labels
// and allocate on every update. These register on a prom-client Registry and are exposed exactly as its own.
import type { Registry } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

interface MetricValue {
  readonly labels: Labels | Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly metricName?: string;
}

interface SlotMetricOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  /** the registry to register on (none: a metric nobody reads) */
  readonly registry?: Registry;
}

/** What the metrics share: label sets kept as slots, in the order of their first update (as prom-client lists them). */
abstract class SlotMetric<L extends string, S extends { readonly labels: Labels; touched: boolean }> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum';
  abstract readonly type: 'counter' | 'histogram';
  private readonly labelNames: readonly L[];
  private readonly slots = new Map<string, S>();
  /** slots updated at least once, first update first */
  protected readonly touched: S[] = [];

  constructor(o: SlotMetricOptions<L>) {
    this.name = o.name;
    this.help = o.help;
    this.labelNames = o.labelNames;
    o.registry?.registerMetric(this as never);
  }

  // The slot of one label set (made on first use; keep it and update it without labels).
  protected slotOf(labels: Readonly<Record<L, string>>): S {
    const key = this.labelNames.map((n) => labels[n]).join('\u0000');
    let slot = this.slots.get(key);
    if (!slot) this.slots.set(key, (slot = this.newSlot(Object.fromEntries(this.labelNames.map((n) => [n, labels[n]])))));
    return slot;
  }

  // Marks a slot updated, listing it on its first update.
  protected touch(slot: S): void {
    if (slot.touched) return;
    slot.touched = true;
    this.touched.push(slot);
  }

  protected abstract newSlot(labels: Labels): S;
  protected abstract values(): MetricValue[];

  // What prom-client's Registry reads when it is scraped.
  async get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: string }> {
    return { name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: this.aggregator };
  }

  reset(): void {
    for (const slot of this.touched) this.clear(slot);
    this.touched.length = 0;
  }

  protected abstract clear(slot: S): void;
}

interface CounterState {
  readonly labels: Labels;
  touched: boolean;
  value: number;
}

/** One label set of a SlotCounter. */
export interface CounterSlot {
  inc(by?: number): void;
}

/** A counter whose label sets are slots. */
export class SlotCounter<L extends string> extends SlotMetric<L, CounterState & CounterSlot> {
  readonly type = 'counter';

  slot(labels: Readonly<Record<L, string>>): CounterSlot {
    return this.slotOf(labels);
  }

  protected newSlot(labels: Labels): CounterState & CounterSlot {
    const touch = (s: CounterState & CounterSlot) => this.touch(s);
    const slot: CounterState & CounterSlot = {
      labels,
      touched: false,
      value: 0,
      inc(by = 1) {
        if (!slot.touched) touch(slot);
        slot.value += by;
      },
    };
    return slot;
  }

  protected values(): MetricValue[] {
    return this.touched.map((s) => ({ labels: s.labels, value: s.value }));
  }

  protected clear(slot: CounterState): void {
    slot.value = 0;
    slot.touched = false;
  }
}

interface HistogramState {
  readonly labels: Labels;
  touched: boolean;
  /** observations per bucket (not cumulative); past the last bound only in count */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** One label set of a SlotHistogram. */
export interface HistogramSlot {
  observe(value: number): void;
}

/** A histogram whose label sets are slots. */
export class SlotHistogram<L extends string> extends SlotMetric<L, HistogramState & HistogramSlot> {
  readonly type = 'histogram';
  private readonly buckets: readonly number[];

  constructor(o: SlotMetricOptions<L> & { readonly buckets: readonly number[] }) {
    super(o);
    this.buckets = [...o.buckets].sort((a, b) => a - b);
  }

  slot(labels: Readonly<Record<L, string>>): HistogramSlot {
    return this.slotOf(labels);
  }

  protected newSlot(labels: Labels): HistogramState & HistogramSlot {
    const buckets = this.buckets;
    const touch = (s: HistogramState & HistogramSlot) => this.touch(s);
    const slot: HistogramState & HistogramSlot = {
      labels,
      touched: false,
      counts: new Float64Array(buckets.length),
      sum: 0,
      count: 0,
      observe(value) {
        if (!slot.touched) touch(slot);
        let i = 0;
        while (i < buckets.length && value > (buckets[i] as number)) i++;
        if (i < buckets.length) slot.counts[i] = (slot.counts[i] as number) + 1;
        slot.sum += value;
        slot.count++;
      },
    };
    return slot;
  }

  // Cumulative buckets with `le` first, then +Inf, the sum and the count, per label set (prom-client's layout).
  protected values(): MetricValue[] {
    const out: MetricValue[] = [];
    for (const s of this.touched) {
      let acc = 0;
      this.buckets.forEach((le, i) => {
        acc += s.counts[i] as number;
        out.push({ labels: { le, ...s.labels }, value: acc, metricName: `${this.name}_bucket` });
      });
      out.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: `${this.name}_bucket` });
      out.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      out.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return out;
  }

  protected clear(slot: HistogramState): void {
    slot.counts.fill(0);
    slot.sum = 0;
    slot.count = 0;
    slot.touched = false;
  }
}
