// Duration strings ("500ms", "3s", "5m", "24h", "1h30m") to milliseconds.
import { PortcullisError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

export class DurationError extends PortcullisError<'DURATION_INVALID'> {
  constructor(message: string) {
    super('DURATION_INVALID', message);
  }
}

// Parses a Go-style duration string (or a number of milliseconds); throws DurationError otherwise.
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new DurationError(`expected a non-negative duration, got ${input}`);
    return input;
  }
  const s = input.trim();
  if (s === '0') return 0;
  if (s.length === 0 || s.length > 64) throw new DurationError(`expected a duration like "3s" or "5m", got "${input}"`);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const at = PART.lastIndex;
    const m = PART.exec(s);
    if (!m || m.index !== at) throw new DurationError(`expected a duration like "3s" or "5m", got "${input}"`);
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  return Math.round(total);
}

// Pattern for JSON Schema: a duration string accepted by parseDuration.
export const DURATION_PATTERN = '^(0|(\\d+(\\.\\d+)?(ms|s|m|h|d))+)$';
