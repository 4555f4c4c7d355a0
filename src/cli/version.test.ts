// `portcullis version` and `--version` through the built CLI.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = `${root}dist/src/cli/main.js`;

function version(args: string[], env: NodeJS.ProcessEnv = {}) {
  const { PORTCULLIS_COMMIT: _c, ...base } = process.env;
  return spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', env: { ...base, ...env } });
}

describe('portcullis version', () => {
  it('prints the version, the commit npm run build recorded and the Kubernetes range, as a command and as --version', () => {
    const built = JSON.parse(readFileSync(`${root}dist/build-info.json`, 'utf8')) as { version: string; commit: string };
    for (const args of [['version'], ['--version']]) {
      const r = version(args);
      expect(r.status).toBe(0);
      expect(r.stdout.split('\n').slice(0, 3)).toEqual([`portcullis ${built.version}`, `commit: ${built.commit}`, 'kubernetes: >=1.27.0-0 (tested with v1.37.2)']);
    }
  });

  it('takes the commit from PORTCULLIS_COMMIT (the container image sets it from its REVISION build argument)', () => {
    expect(version(['version'], { PORTCULLIS_COMMIT: '0123456789ab' }).stdout).toContain('commit: 0123456789ab\n');
  });

  it('refuses arguments', () => {
    expect(version(['version', 'extra']).status).toBe(2);
  });
});
