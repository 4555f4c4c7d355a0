// Per-key concurrency limits (one queue per registry) with abortable waits.

export class Semaphore {
  private active = 0;
  private readonly waiters: Array<{ grant: () => void; reject: (err: unknown) => void }> = [];
  constructor(readonly limit: number) {}

  // Waits for a free slot; rejects with the signal's reason when it aborts first.
  acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.releaser());
        },
        reject,
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i !== -1) this.waiters.splice(i, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  get pending(): number {
    return this.waiters.length;
  }

  get idle(): boolean {
    return this.active === 0 && this.waiters.length === 0;
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiters.shift();
      if (next) next.grant();
      else this.active--;
    };
  }
}

export class KeyedLimiter {
  private readonly sems = new Map<string, Semaphore>();
  constructor(private readonly limit: number) {}

  // Runs fn while holding one of the key's slots.
  async run<T>(key: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    let sem = this.sems.get(key);
    if (!sem) {
      sem = new Semaphore(this.limit);
      this.sems.set(key, sem);
    }
    let release: () => void;
    try {
      release = await sem.acquire(signal);
    } catch (err) {
      if (sem.idle) this.sems.delete(key);
      throw err;
    }
    try {
      return await fn();
    } finally {
      release();
      // forget idle registries so the map stays as small as the set of busy ones
      if (sem.idle) this.sems.delete(key);
    }
  }
}

// Resolves after ms, or rejects with the signal's reason when it aborts first.
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
