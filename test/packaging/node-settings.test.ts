// `portcullis serve` started without node flags (npm start, the bin) runs with the container image's settings.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NODE_ENV, NODE_FLAGS } from '../../src/cli/node-settings.js';
import { startPortcullis } from '../helpers/server.js';
import { readDockerfile } from './dockerfile.js';

const procArgs = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
const procEnv = (pid: number) => Object.fromEntries(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));

describe('node settings of portcullis serve', () => {
  it('are the Dockerfile ENV (NODE_OPTIONS and the MALLOC_* settings)', () => {
    const env = readDockerfile().stages.at(-1)!.instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
    expect(/NODE_OPTIONS="([^"]*)"/.exec(env)?.[1]?.split(' ')).toEqual([...NODE_FLAGS]);
    for (const [k, v] of Object.entries(NODE_ENV)) expect(env).toMatch(new RegExp(`\\b${k}=${v}\\b`));
  });

  it('are applied by re-executing the same process when started without them', async () => {
    const bare = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MALLOC_') && k !== 'NODE_OPTIONS' && k !== 'PORTCULLIS_NODE_SETTINGS'));
    const srv = await startPortcullis({ env: bare as Record<string, string> });
    try {
      const pid = srv.proc.pid!;
      expect(procArgs(pid)).toEqual(expect.arrayContaining([...NODE_FLAGS, 'serve']));
      expect(procEnv(pid)).toMatchObject(NODE_ENV);
    } finally {
      await srv.stop();
    }
  });

  it('leave flags the user gave alone', async () => {
    const srv = await startPortcullis({ env: { NODE_OPTIONS: '--max-old-space-size=200', MALLOC_ARENA_MAX: '4' } });
    try {
      const args = procArgs(srv.proc.pid!);
      expect(args.filter((a) => a.startsWith('--max-old-space-size'))).toEqual([]);
      expect(args).toContain('--max-semi-space-size=4');
      expect(procEnv(srv.proc.pid!)).toMatchObject({ MALLOC_ARENA_MAX: '4', NODE_OPTIONS: '--max-old-space-size=200', MALLOC_TRIM_THRESHOLD_: '131072' });
    } finally {
      await srv.stop();
    }
  });
});
