import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileWat, moduleText, MODULE_PATH, WAT_PATH } from '../../scripts/build-wasm.js';
import { scanJson } from './json.js';

describe('the WebAssembly body scanner', () => {
  it('is json-scan.wat as compiled (run `npm run build:wasm` after editing it)', async () => {
    const binary = await compileWat(readFileSync(WAT_PATH, 'utf8'));
    expect(readFileSync(MODULE_PATH, 'utf8')).toBe(moduleText(binary));
  });

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
