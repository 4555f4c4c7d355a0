// Deadlines on pending work: fact look-ups and decisions settle by the admission deadline.

// Settles like p, or with onTimeout() if the deadline passes first; the timer is cleared once settled and never
// keeps the process alive.
export function settleBy<T>(p: Promise<T>, deadline: number, onTimeout: () => T | Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), Math.max(deadline - Date.now(), 0));
    timer.unref();
  });
  return Promise.race([p, expired]).finally(() => clearTimeout(timer));
}
