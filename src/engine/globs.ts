// Image and name globs of the config (picomatch, compiled once per glob).
import picomatch from 'picomatch';

const compiled = new Map<string, (s: string) => boolean>();

// Whether a value matches any of the globs.
export function matchesAny(globs: readonly string[], value: string): boolean {
  return globs.some((glob) => {
    let m = compiled.get(glob);
    if (!m) {
      m = picomatch(glob, { dot: true });
      compiled.set(glob, m);
    }
    return m(value);
  });
}
