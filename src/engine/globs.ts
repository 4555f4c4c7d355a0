// Image and name globs of the config (picomatch, compiled once per glob).
import picomatch from 'picomatch';
import { BoundedMemo } from '../memo.js';

/** globs kept compiled at most (globs come from configs, which can change) */
const compiled = new BoundedMemo<string, (s: string) => boolean>(1000);
/** answers each glob keeps (a review names the same images in many places, replicas name the same images again) */
const ANSWERS_PER_GLOB = 128;
const OPTIONS = { dot: true } as const;

// The matcher of one glob, compiled once: what picomatch's matcher answers with these options (a non-empty value
// equal to the glob or matching its regex), without the result objects it builds on every call, and with its recent
// answers kept (a `**` regex tests every character with lookaheads).
export function globMatcher(glob: string): (value: string) => boolean {
  const known = compiled.get(glob);
  if (known) return known;
  const re = picomatch.makeRe(glob, OPTIONS);
  const answers = new BoundedMemo<string, boolean>(ANSWERS_PER_GLOB);
  return compiled.set(glob, (value) => {
    if (value === '') return false;
    if (value === glob) return true;
    return answers.get(value) ?? answers.set(value, re.test(value));
  });
}

// Whether a value matches any of the globs.
export function matchesAny(globs: readonly string[], value: string): boolean {
  for (const glob of globs) if (globMatcher(glob)(value)) return true;
  return false;
}
