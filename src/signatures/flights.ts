// One registry discovery per key at a time: concurrent callers share it. A shared discovery that ran out of its
// (earlier) deadline is started again for a caller with a later one.

import type { Discovery } from './discover.js';

export class SharedDiscoveries {
  private readonly flights = new Map<string, { promise: Promise<Discovery>; deadline: number }>();

  private readonly observe: (hit: boolean) => void;

  constructor(observe: (hit: boolean) => void = () => {}) {
    this.observe = observe;
  }

  async run(key: string, deadline: number, start: () => Promise<Discovery>): Promise<Discovery> {
    for (let round = 0; ; round++) {
      let flight = this.flights.get(key);
      this.observe(flight !== undefined);
      if (!flight) {
        const f = { promise: start(), deadline };
        this.flights.set(key, f);
        void f.promise.finally(() => this.flights.get(key) === f && this.flights.delete(key)).catch(() => {});
        flight = f;
      }
      const result = await flight.promise;
      const timedOut = result.errors.some((e) => e.code === 'REGISTRY_TIMEOUT');
      if (round === 0 && timedOut && flight.deadline < deadline - 20 && Date.now() < deadline - 20) {
        if (this.flights.get(key) === flight) this.flights.delete(key);
        continue;
      }
      return result;
    }
  }
}
