// Writes the server's config schema into charts/portcullis/values.schema.json as `config`, so `helm install` and
// `helm template` refuse a config portcullis would refuse. Only the `config` property is rewritten; the rest of the
// file keeps its hand-written layout. Run `npm run chart:schema` after a config or policy parameter change;
// test/packaging/chart-schema.test.ts fails while the file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { configSchema } from '../dist/src/config/schema.js';
import { registrySchema } from '../dist/src/config/registry-schema.js';
import { POLICIES } from '../dist/policies/index.js';

const FILE = 'charts/portcullis/values.schema.json';
const KEY = '\n    "config": ';
const DESCRIPTION = 'PortcullisConfig: generated from the server schema by scripts/chart-schema.ts (npm run chart:schema)';

// The index just past the JSON value that starts at `from` (strings skipped, so braces inside patterns do not count).
function valueEnd(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && --depth === 0) return i + 1;
  }
  throw new Error(`${FILE}: unterminated "config" value`);
}

const text = readFileSync(FILE, 'utf8');
const start = text.indexOf(KEY);
if (start === -1) throw new Error(`${FILE}: expected a top-level "config" property, got none`);
const valueStart = start + KEY.length;
const config = { description: DESCRIPTION, ...configSchema(POLICIES, registrySchema) };
const rendered = JSON.stringify(config, null, 2).replaceAll('\n', '\n    ');
writeFileSync(FILE, text.slice(0, valueStart) + rendered + text.slice(valueEnd(text, valueStart)));
JSON.parse(readFileSync(FILE, 'utf8'));
process.stdout.write(`wrote ${FILE}\n`);
