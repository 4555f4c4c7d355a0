// Durations and renewal windows for the certificate flags: "90d", "12h", "30m", "45s", "500ms", "33%".

export class DurationError extends Error {
  readonly code = 'BAD_DURATION' as const;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

// Parses "<number><unit>" (ms, s, m, h, d) into milliseconds.
export function parseDuration(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new DurationError(`${what}: expected a duration like 90d, 12h, 30m, 45s or 500ms, got "${text}"`);
  const ms = Number(match[1]) * (UNITS[match[2] as string] as number);
  if (!(ms > 0)) throw new DurationError(`${what}: expected a positive duration, got "${text}"`);
  return ms;
}

/** When to renew: a share of the lifetime left, or a fixed time before expiry. */
export type RenewBefore = { readonly fraction: number } | { readonly ms: number };

// Parses "33%" (renew when less than a third of the lifetime remains) or a duration ("720h").
export function parseRenewBefore(text: string, what: string): RenewBefore {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  if (pct) {
    const fraction = Number(pct[1]) / 100;
    if (!(fraction > 0 && fraction < 1)) throw new DurationError(`${what}: expected a percentage between 0 and 100 (exclusive), got "${text}"`);
    return { fraction };
  }
  return { ms: parseDuration(text, what) };
}

// The renewal window, in milliseconds, for a certificate issued for `validityMs`.
export function renewWindowMs(renew: RenewBefore, validityMs: number): number {
  return 'fraction' in renew ? renew.fraction * validityMs : renew.ms;
}
