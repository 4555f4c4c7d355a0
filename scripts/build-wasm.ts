// Compiles src/server/json-scan.wat into src/server/json-scan-wasm.ts (the bytes, base64): `npm run build:wasm`.
// src/server/json-scan.test.ts fails when the two disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import wabtInit from 'wabt';

export const WAT_PATH = 'src/server/json-scan.wat';
export const MODULE_PATH = 'src/server/json-scan-wasm.ts';

// The WebAssembly binary of the WAT text.
export async function compileWat(text: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const parsed = wabt.parseWat(WAT_PATH, text, { simd: true });
  try {
    parsed.validate();
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

// The TypeScript module that carries the binary.
export function moduleText(binary: Uint8Array): string {
  const base64 = Buffer.from(binary).toString('base64');
  const lines = base64.match(/.{1,100}/g) ?? [];
  return [
    `// Generated from json-scan.wat by \`npm run build:wasm\` (scripts/build-wasm.ts); do not edit.`,
    `/** the JSON body scanner's WebAssembly binary, base64 */`,
    `export const JSON_SCAN_WASM =`,
    ...lines.map((line, i) => `  '${line}'${i === lines.length - 1 ? ';' : ' +'}`),
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(MODULE_PATH, moduleText(await compileWat(readFileSync(WAT_PATH, 'utf8'))));
  process.stdout.write(`wrote ${MODULE_PATH}\n`);
}
