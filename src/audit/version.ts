// The package version and build commit: injected into the single executable, else read from the nearest
// package.json and dist/build-info.json above this module (works from src/ and dist/src/).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BuildInfo {
  readonly version: string;
  /** git commit the build came from ("unknown" outside a checkout), with "-dirty" for uncommitted changes */
  readonly commit: string;
}

/** Set by the single-executable bundler (scripts/build-binary.ts); absent when running from dist/ or src/. */
declare const PORTCULLIS_BUILD: BuildInfo | undefined;

let cached: BuildInfo | undefined;

function readJson<T>(file: string): T | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}

// Walks up from this module to the portcullis package.json, taking the first build-info.json on the way.
function fromFiles(): BuildInfo {
  let dir = dirname(fileURLToPath(import.meta.url));
  let commit: string | undefined;
  for (let i = 0; i < 6; i++) {
    commit ??= readJson<BuildInfo>(join(dir, 'build-info.json'))?.commit;
    const pkg = readJson<{ name?: string; version?: string }>(join(dir, 'package.json'));
    if (pkg?.name === 'portcullis' && pkg.version) {
      commit ??= readJson<BuildInfo>(join(dir, 'dist', 'build-info.json'))?.commit;
      return { version: pkg.version, commit: process.env.PORTCULLIS_COMMIT ?? commit ?? 'unknown' };
    }
    dir = dirname(dir);
  }
  return { version: '0.0.0', commit: process.env.PORTCULLIS_COMMIT ?? commit ?? 'unknown' };
}

export function buildInfo(): BuildInfo {
  if (cached) return cached;
  return (cached = typeof PORTCULLIS_BUILD !== 'undefined' && PORTCULLIS_BUILD ? PORTCULLIS_BUILD : fromFiles());
}

export function packageVersion(): string {
  return buildInfo().version;
}
