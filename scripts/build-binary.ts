// Builds the self-contained `portcullis` executable: esbuild bundles the CLI into one CommonJS file, Node's
// single-executable-application support turns it into a blob, postject injects it into a copy of the project's
// Node 24 binary (the `node` devDependency). Output: dist/bin/portcullis and dist/bin/kubectl-portcullis (a kubectl
// plugin: the same file under the name kubectl looks for). Run with `npm run build:binary`.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, linkSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { buildInfo } from './build-info.ts';

const OUT = resolve(process.env.PORTCULLIS_BINARY_DIR ?? 'dist/bin');
const WORK = join(OUT, '.sea');
// The fuse Node's single-executable support looks for (documented in Node's "Single executable applications").
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

// Bundles src/cli/main.ts and every dependency into one CommonJS file (single executables run CommonJS).
async function bundle(file: string): Promise<void> {
  const result = await build({
    entryPoints: ['src/cli/main.ts'],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    minifyWhitespace: true,
    legalComments: 'eof',
    define: { PORTCULLIS_BUILD: JSON.stringify(buildInfo()) },
    // tr46 and whatwg-url (under @kubernetes/client-node) require Node's deprecated built-in punycode; bundled, that
    // require no longer comes from node_modules and Node prints DEP0040 on every scan: use the userland package
    alias: { punycode: 'punycode/punycode.js' },
    logLevel: 'warning',
    // only src/audit/version.ts reads import.meta, and not when PORTCULLIS_BUILD is defined
    logOverride: { 'empty-import-meta': 'silent' },
  });
  if (result.errors.length > 0) throw new Error(`esbuild: ${result.errors.map((e) => e.text).join('; ')}`);
}

async function main(): Promise<void> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const script = join(WORK, 'portcullis.cjs');
  const blob = join(WORK, 'portcullis.blob');
  await bundle(script);
  const config = join(WORK, 'sea-config.json');
  writeFileSync(config, JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true, useCodeCache: false }));
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'inherit' });
  const exe = join(OUT, 'portcullis');
  copyFileSync(process.execPath, exe);
  chmodSync(exe, 0o755);
  execFileSync(process.execPath, [resolve('node_modules/postject/dist/cli.js'), exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], { stdio: 'inherit' });
  linkSync(exe, join(OUT, 'kubectl-portcullis'));
  rmSync(WORK, { recursive: true, force: true });
  process.stdout.write(`built ${exe} and ${join(OUT, 'kubectl-portcullis')} (${JSON.stringify(buildInfo())})\n`);
}

await main();
