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

/** What one pass over a JSON body found: its nesting depth and the byte ranges the parser may leave out. */
export interface JsonScan {
  /** the deepest nesting of objects and arrays, or the first depth past the limit */
  readonly depth: number;
  /** [start, end) byte offset pairs: the `metadata.managedFields` arrays of `request.object` and `request.oldObject` */
  readonly skip: readonly number[];
}

// The keys leading from an AdmissionReview's root to a managedFields array, one list per depth, as UTF-8 bytes.
const SKIP_PATH: readonly (readonly Uint8Array[])[] = [['request'], ['object', 'oldObject'], ['metadata'], ['managedFields']].map((keys) =>
  keys.map((key) => Buffer.from(key)),
);
const NOTHING_SKIPPED: readonly number[] = [];

// Whether the bytes [start, end) are one of the keys.
function isOneOf(bytes: Uint8Array, start: number, end: number, keys: readonly Uint8Array[]): boolean {
  next: for (const key of keys) {
    if (end - start !== key.length) continue;
    for (let k = 0; k < key.length; k++) if (bytes[start + k] !== key[k]) continue next;
    return true;
  }
  return false;
}

// Whether the next byte after i, whitespace aside, is a colon (the string before it was a key).
function colonFollows(bytes: Uint8Array, i: number): boolean {
  let c = bytes[i];
  while (c === 32 || c === 10 || c === 13 || c === 9) c = bytes[++i];
  return c === 58;
}

// Index of the quote closing the string that opens at i, or -1 (a backslash escapes the byte after it).
function stringEnd(bytes: Uint8Array, i: number): number {
  for (let end = i + 1, n = bytes.length; end < n; ) {
    const c = bytes[end];
    if (c === 34) return end;
    end += c === 92 ? 2 : 1;
  }
  return -1;
}

// Measures the nesting depth of a UTF-8 JSON text, stopping once it passes max, and finds the managedFields arrays
// of the review's objects (field-manager bookkeeping no policy reads: about half the parse time of a captured
// review). Bytes, not characters: every byte of a multi-byte UTF-8 character is >= 0x80, never a JSON delimiter.
export function scanJson(bytes: Uint8Array, max: number): JsonScan {
  let depth = 0;
  let deepest = 0;
  let onPath = 0; // depth of the deepest open object on SKIP_PATH (the root object is depth 1)
  let keyOnPath = false; // the key just read leads one level further down SKIP_PATH
  let skipFrom = -1;
  let skip: number[] | undefined;
  for (let i = 0, n = bytes.length; i < n; i++) {
    const c = bytes[i];
    if (c === 34) {
      const end = stringEnd(bytes, i);
      if (end === -1) break;
      if (depth === onPath && depth > 0) {
        const keys = SKIP_PATH[depth - 1];
        keyOnPath = keys !== undefined && isOneOf(bytes, i + 1, end, keys) && colonFollows(bytes, end + 1);
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

// The text of the body with each skipped range replaced by an empty array: the kept bytes copied once outside the
// V8 heap and decoded once (no string of the whole body is made).
function withoutSkipped(body: Buffer, skip: readonly number[]): string {
  let length = body.length;
  for (let k = 0; k < skip.length; k += 2) length -= (skip[k + 1] as number) - (skip[k] as number) - 2;
  const kept = Buffer.allocUnsafeSlow(length);
  let from = 0;
  let at = 0;
  for (let k = 0; k < skip.length; k += 2) {
    at += body.copy(kept, at, from, skip[k]);
    kept[at++] = 91; // [
    kept[at++] = 93; // ]
    from = skip[k + 1] as number;
  }
  body.copy(kept, at, from);
  return kept.toString('utf8');
}

// Parses a UTF-8 JSON body with a depth limit, leaving the review's managedFields empty; throws BodyError.
export function parseJsonBody(body: Buffer): unknown {
  const scan = scanJson(body, MAX_JSON_DEPTH);
  if (scan.depth > MAX_JSON_DEPTH) {
    throw new BodyError('JSON_TOO_DEEP', `expected JSON nested at most ${MAX_JSON_DEPTH} levels, got more`);
  }
  try {
    return JSON.parse(scan.skip.length > 0 ? withoutSkipped(body, scan.skip) : body.toString('utf8'));
  } catch (err) {
    if (scan.skip.length === 0) throw invalidJson(err);
    try {
      return JSON.parse(body.toString('utf8')); // the error's position, as sent (or a body the skipping must not refuse)
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
  app.addContentTypeParser(/^application\/([\w.+-]+\+)?json(;.*)?$/, { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
