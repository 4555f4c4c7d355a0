// Image and name globs of the config (picomatch, compiled once per glob).
import picomatch from 'picomatch';

const compiled = new Map<string, (s: string) => boolean>();
/** globs kept compiled at most (the cache starts over past it: globs come from configs, which can change) */
const MAX_COMPILED = 1000;

// The matcher of one glob, compiled once.
export function globMatcher(glob: string): (value: string) => boolean {
  let m = compiled.get(glob);
  if (!m) {
    m = picomatch(glob, { dot: true });
    if (compiled.size > MAX_COMPILED) compiled.clear();
    compiled.set(glob, m);
  }
  return m;
}

// Whether a value matches any of the globs.
export function matchesAny(globs: readonly string[], value: string): boolean {
  return globs.some((glob) => globMatcher(glob)(value));
}
