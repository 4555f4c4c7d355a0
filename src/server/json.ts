// The request body parser: JSON only, bounded in size and nesting depth.
import type { FastifyInstance } from 'fastify';

export const MAX_BODY_BYTES = 4 * 1024 * 1024;
export const MAX_JSON_DEPTH = 128;

export class BodyError extends Error {
  readonly code: 'INVALID_JSON' | 'JSON_TOO_DEEP';
  readonly statusCode = 400;
  constructor(code: 'INVALID_JSON' | 'JSON_TOO_DEEP', message: string) {
    super(message);
    this.name = 'BodyError';
    this.code = code;
  }
}

/** What one pass over a JSON text found: its nesting depth and the text ranges the parser may leave out. */
export interface JsonScan {
  /** the deepest nesting of objects and arrays, or the first depth past the limit */
  readonly depth: number;
  /** [start, end) pairs: the `metadata.managedFields` arrays of `request.object` and `request.oldObject` */
  readonly skip: readonly number[];
}

// The keys leading from an AdmissionReview's root to a managedFields array, one list per depth.
const SKIP_PATH: readonly (readonly string[])[] = [['request'], ['object', 'oldObject'], ['metadata'], ['managedFields']];
const NOTHING_SKIPPED: readonly number[] = [];

// Whether the string text[start, end) is one of the keys.
function isOneOf(text: string, start: number, end: number, keys: readonly string[]): boolean {
  for (const key of keys) if (end - start === key.length && text.startsWith(key, start)) return true;
  return false;
}

// Whether the next character after i, whitespace aside, is a colon (the string before it was a key).
function colonFollows(text: string, i: number): boolean {
  let c = text.charCodeAt(i);
  while (c === 32 || c === 10 || c === 13 || c === 9) c = text.charCodeAt(++i);
  return c === 58;
}

// Index of the quote closing the string that opens at i, or -1 (a quote after an odd number of backslashes is escaped).
function stringEnd(text: string, i: number): number {
  let end = text.indexOf('"', i + 1);
  while (end !== -1) {
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === 92) backslashes++;
    if ((backslashes & 1) === 0) return end;
    end = text.indexOf('"', end + 1);
  }
  return -1;
}

// Measures the nesting depth of JSON text, stopping once it passes max, and finds the managedFields arrays of the
// review's objects (field-manager bookkeeping no policy reads: about half the parse time of a captured review).
export function scanJson(text: string, max: number): JsonScan {
  let depth = 0;
  let deepest = 0;
  let onPath = 0; // depth of the deepest open object on SKIP_PATH (the root object is depth 1)
  let keyOnPath = false; // the key just read leads one level further down SKIP_PATH
  let skipFrom = -1;
  let skip: number[] | undefined;
  for (let i = 0, n = text.length; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      const end = stringEnd(text, i);
      if (end === -1) break;
      if (depth === onPath && depth > 0) {
        const keys = SKIP_PATH[depth - 1];
        keyOnPath = keys !== undefined && isOneOf(text, i + 1, end, keys) && colonFollows(text, end + 1);
      }
      i = end;
    } else if (c === 123 || c === 91) {
      if (++depth > deepest && (deepest = depth) > max) return { depth: deepest, skip: NOTHING_SKIPPED };
      if (depth - 1 === onPath && (depth === 1 || keyOnPath)) {
        if (c === 123 && depth <= SKIP_PATH.length) onPath = depth;
        else if (c === 91 && depth === SKIP_PATH.length + 1) skipFrom = i;
      }
      keyOnPath = false;
    } else if (c === 125 || c === 93) {
      if (depth === onPath) onPath--;
      if (skipFrom !== -1 && depth === SKIP_PATH.length + 1) {
        (skip ??= []).push(skipFrom, i + 1);
        skipFrom = -1;
      }
      depth--;
      keyOnPath = false;
    }
  }
  return { depth: deepest, skip: skip ?? NOTHING_SKIPPED };
}

// The text with each skipped range replaced by an empty array.
function withoutSkipped(text: string, skip: readonly number[]): string {
  let out = '';
  let from = 0;
  for (let k = 0; k < skip.length; k += 2) {
    out += `${text.slice(from, skip[k])}[]`;
    from = skip[k + 1] as number;
  }
  return out + text.slice(from);
}

// Parses JSON with a depth limit, leaving the review's managedFields empty; throws BodyError.
export function parseJsonBody(text: string): unknown {
  const scan = scanJson(text, MAX_JSON_DEPTH);
  if (scan.depth > MAX_JSON_DEPTH) {
    throw new BodyError('JSON_TOO_DEEP', `expected JSON nested at most ${MAX_JSON_DEPTH} levels, got more`);
  }
  try {
    return JSON.parse(scan.skip.length > 0 ? withoutSkipped(text, scan.skip) : text);
  } catch (err) {
    if (scan.skip.length === 0) throw invalidJson(err);
    try {
      return JSON.parse(text); // the error's position, as sent (or a body the skipping must not refuse)
    } catch (original) {
      throw invalidJson(original);
    }
  }
}

function invalidJson(err: unknown): BodyError {
  return new BodyError('INVALID_JSON', `expected a JSON body, got invalid JSON: ${(err as Error).message}`);
}

// Registers the JSON parser for application/json (and +json types) on the app.
export function registerJsonParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers(); // JSON only: text/plain and others get 415
  app.addContentTypeParser(/^application\/([\w.+-]+\+)?json(;.*)?$/, { parseAs: 'string', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
