import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileAll, moduleText, MODULE_PATH } from '../../scripts/build-wasm.js';
import { JSON_SCAN_WASM_SCALAR, JSON_SCAN_WASM_SIMD } from './json-scan-wasm.js';
import { createJsonScanner } from './json.js';

it('json-scan-wasm.ts is json-scan.wat as compiled (run `npm run build:wasm` after editing it)', async () => {
  expect(readFileSync(MODULE_PATH, 'utf8')).toBe(moduleText(await compileAll()));
});

describe.each([
  ['simd', JSON_SCAN_WASM_SIMD],
  ['scalar', JSON_SCAN_WASM_SCALAR],
])('the %s build of the body scanner', (_build, binary) => {
  const scanJson = createJsonScanner(binary);

  it('stops at the end of the text, whatever an earlier, longer text left after it', () => {
    expect(scanJson(Buffer.from(`{"a":"${'x'.repeat(40)}","b":[[[]]]}`), 100).depth).toBe(4);
    expect(scanJson(Buffer.from('{"a":"xx'), 100).depth).toBe(1);
    expect(scanJson(Buffer.from('{"a":"x\\'), 100).depth).toBe(1);
    expect(scanJson(Buffer.from('[["'), 100).depth).toBe(2);
  });

  it('finds closing quotes on and across 16-byte boundaries, escapes included', () => {
    for (let length = 0; length < 40; length++) {
      for (const filler of ['x', '\\\\', '\\"', 'é']) {
        const text = `[{"s":"${filler.repeat(length)}"},[{"k":"]"}]]`;
        expect(scanJson(Buffer.from(text), 100).depth).toBe(3);
      }
    }
  });

  it('scans texts larger than the kept memory, and after them small ones again', () => {
    const managed = Array.from({ length: 5000 }, (_, i) => ({ manager: `m${i}`, fieldsV1: { 'f:spec': { 'f:x': {} } } }));
    const big = JSON.stringify({ request: { object: { metadata: { managedFields: managed }, spec: { a: '"]' } } } });
    expect(big.length).toBeGreaterThan(256 * 1024);
    const scan = scanJson(Buffer.from(big), 128);
    expect(scan.depth).toBe(9);
    expect(big.slice(scan.skip[0], scan.skip[1])).toBe(JSON.stringify(managed));
    expect(scanJson(Buffer.from('{"request":{"object":{"metadata":{"managedFields":[1]}}}}'), 128).skip).toEqual([50, 53]);
  });
});

it('the two builds find the same depth and ranges', () => {
  const [simd, scalar] = [createJsonScanner(JSON_SCAN_WASM_SIMD), createJsonScanner(JSON_SCAN_WASM_SCALAR)];
  const review = fc.record({
    extra: fc.jsonValue({ maxDepth: 5, stringUnit: 'binary' }),
    managed: fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' }),
    old: fc.option(fc.jsonValue({ maxDepth: 3 })),
    indent: fc.constantFrom(0, 2),
  });
  fc.assert(
    fc.property(review, fc.integer({ min: 1, max: 12 }), ({ extra, managed, old, indent }, max) => {
      const metadata = (m: unknown) => ({ metadata: { managedFields: m, x: extra } });
      const body = { request: { object: metadata(managed), ...(old !== null ? { oldObject: metadata(old) } : {}) }, extra };
      const bytes = Buffer.from(JSON.stringify(body, null, indent));
      expect(scalar(bytes, max)).toEqual(simd(bytes, max));
    }),
    { numRuns: 2000 },
  );
});

it('falls back to the scalar build where the CPU has no WebAssembly SIMD (V8 told to use no SSE4.1)', () => {
  // the built module (npm test builds first): node runs it without a TypeScript loader
  const json = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'src', 'server', 'json.js')).href;
  const script = `
    const { JSON_SCAN_WASM_SIMD } = await import(${JSON.stringify(json.replace(/json\.js$/, 'json-scan-wasm.js'))});
    let simd = 'compiles';
    try { new WebAssembly.Module(Buffer.from(JSON_SCAN_WASM_SIMD, 'base64')); } catch (err) { simd = err.message; }
    const { parseJsonBody } = await import(${JSON.stringify(json)});
    const body = parseJsonBody(Buffer.from('{"request":{"object":{"metadata":{"managedFields":[1],"name":"p"}}}}'));
    process.stdout.write(JSON.stringify({ simd, body }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['--no-enable-sse4-1', '--input-type=module', '-e', script], { encoding: 'utf8' }));
  expect(out.simd).toMatch(/SIMD unsupported/);
  expect(out.body).toEqual({ request: { object: { metadata: { managedFields: [], name: 'p' } } } });
});
