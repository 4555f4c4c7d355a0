// The library's faster paths answer what the slower ones do: matches() with remembered answers against RE2 itself,
// the one-pass replace() against the strings extension's loop, on many generated inputs.
import { describe, expect, it } from 'vitest';
import { celEnv, CelScalar, parse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { RE2JS } from '@bufbuild/re2';
import { CACHED_RE2, KUBERNETES_LIBRARY } from './cel-library.js';
import { resetBudget } from './cel-budget.js';

const PATTERNS = ['^[a-z0-9.-]+(:[0-9]+)?/', '^[A-Za-z_][A-Za-z0-9_]*$', 'a|b$', '(x+x+)+y', ''];
const ALPHABET = ['a', 'b', 'x', 'y', 'A', '_', '1', '.', '-', ':', '/', 'é', '😀'];

// A deterministic string of up to `max` characters from the alphabet.
function text(seed: number, max: number): string {
  let out = '';
  let a = seed * 2654435761;
  const n = seed % max;
  for (let i = 0; i < n; i++) {
    a = (a * 1103515245 + 12345) >>> 0;
    out += ALPHABET[a % ALPHABET.length]!;
  }
  return out;
}

describe('matches() with remembered answers', () => {
  it('answers what RE2 answers, past the remembered bound and for long inputs, asked twice', () => {
    for (const pattern of PATTERNS) {
      const re2 = RE2JS.compile(pattern);
      for (let round = 0; round < 2; round++) {
        for (let seed = 0; seed < 1500; seed++) {
          const s = text(seed, seed % 7 === 0 ? 400 : 40);
          expect(CACHED_RE2.compile(pattern).test(s), `${pattern} on ${s}`).toBe(re2.test(s));
        }
      }
    }
  });
});

describe('replace()', () => {
  const vars = { variables: { s: CelScalar.STRING, f: CelScalar.STRING, t: CelScalar.STRING, n: CelScalar.INT } };
  const ours = celEnv({ ...vars, funcs: [...KUBERNETES_LIBRARY] });
  const theirs = celEnv({ ...vars, funcs: [...strings] });
  const run = (env: typeof ours, source: string, b: Record<string, unknown>) => {
    resetBudget();
    return plan(env, parse(source))(b as never);
  };

  it('answers what the strings extension answers, for every count and for an empty pattern', () => {
    for (let seed = 0; seed < 400; seed++) {
      const b = { s: text(seed, 30), f: text(seed * 7 + 1, 3), t: text(seed * 13 + 2, 4), n: BigInt((seed % 5) - 1) };
      for (const source of ['s.replace(f, t)', 's.replace(f, t, n)']) {
        expect(run(ours, source, b), `${source} ${JSON.stringify({ ...b, n: Number(b.n) })}`).toEqual(run(theirs, source, b));
      }
    }
  });
});
