// The request body parser: JSON only, bounded in size and nesting depth.
import type { FastifyInstance } from 'fastify';
import { JSON_SCAN_WASM_SCALAR, JSON_SCAN_WASM_SIMD } from './json-scan-wasm.js';
import { PortcullisError } from '../errors.js';

export const MAX_BODY_BYTES = 4 * 1024 * 1024;
export const MAX_JSON_DEPTH = 128;

export class BodyError extends PortcullisError<'INVALID_JSON' | 'JSON_TOO_DEEP'> {
  readonly statusCode = 400;
}

/** What one pass over a JSON body found: its nesting depth and the byte ranges the parser may leave out. */
export interface JsonScan {
  /** the deepest nesting of objects and arrays, or the first depth past the limit */
  readonly depth: number;
  /** [start, end) byte offset pairs: the `metadata.managedFields` arrays of `request.object` and `request.oldObject` */
  readonly skip: readonly number[];
}

const NOTHING_SKIPPED: readonly number[] = [];

// The scan runs in WebAssembly (json-scan.wat: a string's closing quote found 16 bytes at a time), 2.5x faster than
// the same loop in JavaScript. Its memory: the result, then the text from TEXT, then SLACK bytes its 16-byte loads may
// read past the end.
const TEXT = 128;
const SLACK = 16;
/** texts up to this size are scanned in one long-lived instance (whose memory grows to fit them and stays) */
const KEEP_BYTES = 256 * 1024;
const PAGE = 65_536;

// The part of the WebAssembly API the scanner uses (TypeScript declares it only in its DOM library).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  readonly Module: new (binary: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: object };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Instance {
  readonly memory: WasmMemory;
  readonly scan: (length: number, max: number) => number;
  bytes: Uint8Array;
  ints: Int32Array;
}

// An instance of the module with memory for at least size bytes.
function instantiate(module: object, size: number): Instance {
  const exports = new wasm.Instance(module, {}).exports as { memory: WasmMemory; scan: Instance['scan'] };
  return fit({ memory: exports.memory, scan: exports.scan, bytes: new Uint8Array(0), ints: new Int32Array(0) }, size);
}

// Grows the instance's memory to at least size bytes (views of the old memory are detached by a growth).
function fit(instance: Instance, size: number): Instance {
  const { memory } = instance;
  if (memory.buffer.byteLength < size) memory.grow(Math.ceil((size - memory.buffer.byteLength) / PAGE));
  if (instance.bytes.buffer !== memory.buffer) {
    instance.bytes = new Uint8Array(memory.buffer);
    instance.ints = new Int32Array(memory.buffer);
  }
  return instance;
}

/** Measures a JSON text's nesting depth (up to max) and finds the managedFields ranges. */
export type JsonScanner = (bytes: Uint8Array, max: number) => JsonScan;

// A scanner running the given build of json-scan.wat (base64): texts of up to KEEP_BYTES in one instance, larger
// ones each in an instance of their own (so that its memory goes with it).
export function createJsonScanner(binary: string): JsonScanner {
  const module = new wasm.Module(Buffer.from(binary, 'base64'));
  let kept: Instance | undefined;
  return (bytes, max) => {
    const size = TEXT + bytes.length + SLACK;
    const instance = size <= KEEP_BYTES ? fit((kept ??= instantiate(module, size)), size) : instantiate(module, size);
    instance.bytes.set(bytes, TEXT);
    const depth = instance.scan(bytes.length, max);
    const count = instance.ints[0] as number;
    if (count === 0) return { depth, skip: NOTHING_SKIPPED };
    return { depth, skip: Array.from(instance.ints.subarray(1, 1 + 2 * count)) };
  };
}

// The SIMD build where the CPU runs WebAssembly SIMD, else the scalar build of the same scan.
function preferredScanner(): JsonScanner {
  try {
    return createJsonScanner(JSON_SCAN_WASM_SIMD);
  } catch {
    return createJsonScanner(JSON_SCAN_WASM_SCALAR);
  }
}

/**
 * Measures the nesting depth of a UTF-8 JSON text, stopping once it passes max, and finds the managedFields arrays of
 * the review's objects (field-manager bookkeeping no policy reads: about half the parse time of a captured review):
 * request.object.metadata.managedFields and request.oldObject.metadata.managedFields, keys as written (an escaped
 * key is not recognized, so its value is parsed), at most seven ranges (one review has two; a duplicate key beyond
 * that is parsed too).
 */
export const scanJson: JsonScanner = preferredScanner();

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
