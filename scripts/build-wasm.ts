// Compiles src/server/json-scan.wat into src/server/json-scan-wasm.ts (both builds' bytes, base64):
// `npm run build:wasm`. src/server/json-scan.test.ts fails when the two disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import wabtInit from 'wabt';

export const WAT_PATH = 'src/server/json-scan.wat';
export const MODULE_PATH = 'src/server/json-scan-wasm.ts';

/** the two builds: with the SIMD string loop, and with the byte-at-a-time one for CPUs without WebAssembly SIMD */
export const BUILDS = ['simd', 'scalar'] as const;
export type Build = (typeof BUILDS)[number];

// The WAT text of one build: its own marked block kept, the other build's dropped.
export function buildText(text: string, build: Build): string {
  const other = build === 'simd' ? 'scalar' : 'simd';
  const block = new RegExp(`^[ \\t]*;; ${other}:begin\\n[\\s\\S]*?^[ \\t]*;; ${other}:end\\n`, 'm');
  if (!block.test(text)) throw new Error(`${WAT_PATH}: expected a ";; ${other}:begin" ... ";; ${other}:end" block, got none`);
  return text.replace(block, '');
}

// The WebAssembly binary of one build of the WAT text.
export async function compileWat(text: string, build: Build): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const parsed = wabt.parseWat(WAT_PATH, buildText(text, build), { simd: build === 'simd' });
  try {
    parsed.validate();
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

// The TypeScript module that carries the binaries.
export function moduleText(binaries: Readonly<Record<Build, Uint8Array>>): string {
  const constant = (build: Build): string[] => {
    const lines = Buffer.from(binaries[build]).toString('base64').match(/.{1,100}/g) ?? [];
    return [
      `/** the ${build} build, base64 */`,
      `export const JSON_SCAN_WASM_${build.toUpperCase()} =`,
      ...lines.map((line, i) => `  '${line}'${i === lines.length - 1 ? ';' : ' +'}`),
    ];
  };
  return [
    `// Generated from json-scan.wat by \`npm run build:wasm\` (scripts/build-wasm.ts); do not edit.`,
    ...constant('simd'),
    ...constant('scalar'),
    '',
  ].join('\n');
}

// Both builds of the WAT file.
export async function compileAll(): Promise<Record<Build, Uint8Array>> {
  const text = readFileSync(WAT_PATH, 'utf8');
  return { simd: await compileWat(text, 'simd'), scalar: await compileWat(text, 'scalar') };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(MODULE_PATH, moduleText(await compileAll()));
  process.stdout.write(`wrote ${MODULE_PATH}\n`);
}
