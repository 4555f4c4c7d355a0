// The admission deadline: the API server's ?timeout= (default 10s) minus a safety margin.
import { parseDuration } from '../duration.js';

export const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_TIMEOUT_MS = 30_000;

// When the answer must be sent, given the time the request arrived and its ?timeout= value.
export function deadlineFor(receivedAt: number, timeout: unknown): number {
  let ms = DEFAULT_TIMEOUT_MS;
  if (typeof timeout === 'string' && timeout !== '') {
    try {
      ms = Math.min(parseDuration(timeout), MAX_TIMEOUT_MS);
    } catch {
      ms = DEFAULT_TIMEOUT_MS;
    }
  }
  const margin = Math.min(500, Math.max(50, ms * 0.1));
  return receivedAt + Math.max(ms - margin, 10);
}

// When look-ups must have settled so the policies still decide with their onError before the answer deadline: a
// reserve of the larger of 100 ms and 10% of the time the request has.
export function lookupDeadline(receivedAt: number, deadline: number): number {
  const reserve = Math.max(100, (deadline - receivedAt) * 0.1);
  return Math.max(receivedAt + 1, deadline - reserve);
}
