// Image and name globs of the config (picomatch, compiled once per glob).
import picomatch from 'picomatch';

const compiled = new Map<string, (s: string) => boolean>();
/** globs kept compiled at most (the cache starts over past it: globs come from configs, which can change) */
const MAX_COMPILED = 1000;
const OPTIONS = { dot: true } as const;

// The matcher of one glob, compiled once: what picomatch's matcher answers with these options (a non-empty value
// equal to the glob or matching its regex), without the result objects it builds on every call.
export function globMatcher(glob: string): (value: string) => boolean {
  let m = compiled.get(glob);
  if (!m) {
    const re = picomatch.makeRe(glob, OPTIONS);
    m = (value) => value !== '' && (value === glob || re.test(value));
    if (compiled.size > MAX_COMPILED) compiled.clear();
    compiled.set(glob, m);
  }
  return m;
}

// Whether a value matches any of the globs.
export function matchesAny(globs: readonly string[], value: string): boolean {
  for (const glob of globs) if (globMatcher(glob)(value)) return true;
  return false;
}
