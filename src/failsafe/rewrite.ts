// Rewrites a portcullis CEL expression for a ValidatingAdmissionPolicy: the free variables `pod` and `params`
// become `variables.pod` and `variables.params` (object, oldObject and request are the API server's own).
import { parse } from '@bufbuild/cel';

type Expr = ReturnType<typeof parse>['expr'];

const RENAMED: Readonly<Record<string, string>> = { pod: 'variables.pod', params: 'variables.params' };

// The offsets of the free identifiers to rename, skipping names a comprehension binds.
function freeIdents(e: Expr | undefined, bound: ReadonlySet<string>, positions: Record<string, number>, out: Array<[number, string]>): void {
  if (!e) return;
  const k = e.exprKind;
  switch (k.case) {
    case 'identExpr':
      if (RENAMED[k.value.name] && !bound.has(k.value.name)) out.push([positions[String(e.id)] ?? -1, k.value.name]);
      return;
    case 'selectExpr':
      return freeIdents(k.value.operand, bound, positions, out);
    case 'callExpr':
      freeIdents(k.value.target, bound, positions, out);
      for (const a of k.value.args) freeIdents(a, bound, positions, out);
      return;
    case 'listExpr':
      for (const a of k.value.elements) freeIdents(a, bound, positions, out);
      return;
    case 'structExpr':
      for (const en of k.value.entries) {
        if (en.keyKind.case === 'mapKey') freeIdents(en.keyKind.value, bound, positions, out);
        freeIdents(en.value, bound, positions, out);
      }
      return;
    case 'comprehensionExpr': {
      const c = k.value;
      freeIdents(c.iterRange, bound, positions, out);
      freeIdents(c.accuInit, bound, positions, out);
      const inner = new Set([...bound, c.iterVar, c.accuVar]);
      freeIdents(c.loopCondition, inner, positions, out);
      freeIdents(c.loopStep, inner, positions, out);
      freeIdents(c.result, new Set([...bound, c.accuVar]), positions, out);
      return;
    }
    default:
      return;
  }
}

// The expression with pod and params read from the policy's variables.
export function forApiServer(source: string): string {
  const parsed = parse(source);
  const found: Array<[number, string]> = [];
  freeIdents(parsed.expr, new Set(), parsed.sourceInfo?.positions ?? {}, found);
  let out = source;
  for (const [offset, name] of [...new Map(found.map(([o, n]) => [o, n]))].sort((a, b) => b[0] - a[0])) {
    if (offset < 0 || out.slice(offset, offset + name.length) !== name) throw new Error(`expected "${name}" at offset ${offset} of ${source}`);
    out = `${out.slice(0, offset)}${RENAMED[name]}${out.slice(offset + name.length)}`;
  }
  return out;
}

// A JSON value as a CEL literal (map values wrapped in dyn() so mixed maps type-check).
export function celLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : `${v}${Number.isInteger(v) ? '.0' : ''}`;
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(celLiteral).join(', ')}]`;
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${JSON.stringify(k)}: dyn(${celLiteral(x)})`).join(', ')}}`;
}

/** Glob syntax picomatch reads that globToRegex leaves out: classes, braces, extglobs, negation, escapes. */
const UNTRANSLATED = /[[\]{}()!\\]/;

/** The globs picomatch matches through a fast path that wants a character after the dot (".*", "*.*", ...). */
const DOT_STAR_FAST_PATH = /^(?:\.\*|\*\.\*|\*\*\/\*\.\*|\*\*\/\.\*)(?:\.\w+)*$/;

// One path segment of a glob: `*` (and a `**` inside a segment) within the segment, `?` one character of it.
function segmentToRegex(segment: string): string {
  return segment.replace(/\*+|\?|[.+^${}()|[\]\\]/g, (m) => (m.startsWith('*') ? '[^/]*' : m === '?' ? '[^/]' : `\\${m}`));
}

// A `**` segment between two others: any number of whole segments; picomatch also lets it end the name when the one
// segment after it is three or more stars, which (unlike a lone `*`) may match nothing.
function middle(segments: readonly string[], i: number): string {
  return i === segments.length - 2 && /^\*{3,}$/.test(segments[i + 1]!) ? '(?:/(?:.*/)?|$)' : '/(?:.*/)?';
}

// An image glob (the config's globs: picomatch with dot) as an RE2 pattern, for strings with no empty, "." or ".."
// path segments (image references, registry/repository names): `*` and `?` within a path segment, a `**` segment
// across any number of segments, none included. Undefined for glob syntax it does not translate.
export function globToRegex(written: string): string | undefined {
  if (UNTRANSLATED.test(written)) return undefined;
  const glob = written.replace(/^(?:\.\/)+/, '');
  const segments = glob.split('/').filter((seg, i, all) => !(seg === '**' && all[i - 1] === '**'));
  let out = '';
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    // picomatch lets a trailing /** match nothing only after a segment that does not end in a star
    const trailing = segments[i - 1]?.endsWith('*') ? '/.*' : '(?:/.*)?';
    if (seg === '**') out += segments.length === 1 ? '.*' : last ? trailing : i === 0 ? '(?:.*/)?' : middle(segments, i);
    else out += (i > 0 && segments[i - 1] !== '**' ? '/' : '') + segmentToRegex(seg);
  });
  // picomatch's fast paths for these whole globs want a character after the dot
  return `^${DOT_STAR_FAST_PATH.test(glob) ? out.replace('\\.[^/]*', '\\.[^/]+') : out}$`;
}
