// Writes dist/build-info.json (version and git commit) for `portcullis version`; run by `npm run build`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

// The commit of the checkout, "-dirty" when tracked files changed; PORTCULLIS_COMMIT wins; "unknown" outside git.
export function gitCommit(): string {
  if (process.env.PORTCULLIS_COMMIT) return process.env.PORTCULLIS_COMMIT;
  try {
    const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

export function buildInfo(): { version: string; commit: string } {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  return { version: pkg.version, commit: gitCommit() };
}

if (import.meta.main) {
  mkdirSync('dist', { recursive: true });
  writeFileSync('dist/build-info.json', `${JSON.stringify(buildInfo(), null, 2)}\n`);
}
