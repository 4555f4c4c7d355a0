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

// Returns the deepest nesting of objects and arrays in JSON text, stopping once it passes max.
// Strings are skipped with indexOf (a quote preceded by an odd number of backslashes is escaped).
export function jsonDepth(text: string, max: number): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0, n = text.length; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      let end = text.indexOf('"', i + 1);
      while (end !== -1) {
        let backslashes = 0;
        while (text.charCodeAt(end - 1 - backslashes) === 92) backslashes++;
        if ((backslashes & 1) === 0) break;
        end = text.indexOf('"', end + 1);
      }
      if (end === -1) return deepest;
      i = end;
    } else if (c === 123 || c === 91) {
      if (++depth > deepest && (deepest = depth) > max) return deepest;
    } else if (c === 125 || c === 93) depth--;
  }
  return deepest;
}

// Parses JSON with a depth limit; throws BodyError.
export function parseJsonBody(text: string): unknown {
  if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new BodyError('JSON_TOO_DEEP', `expected JSON nested at most ${MAX_JSON_DEPTH} levels, got more`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BodyError('INVALID_JSON', `expected a JSON body, got invalid JSON: ${(err as Error).message}`);
  }
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
