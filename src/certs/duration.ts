// Durations and renewal windows for the certificate flags: "90d", "12h", "30m", "45s", "500ms", "33%".

import { parseDuration as parseAnyDuration, DurationError } from '../duration.js';

export { DurationError };

// Parses a positive duration ("90d", "12h", "1h30m", "500ms") for the flag named by `what`.
export function parseDuration(text: string, what: string): number {
  let ms: number;
  try {
    ms = parseAnyDuration(text);
  } catch {
    throw new DurationError(`${what}: expected a duration like 90d, 12h, 30m, 45s or 500ms, got "${text}"`);
  }
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
