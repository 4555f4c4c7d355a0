import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConfigStore } from './store.js';
import type { Config } from './types.js';
import type { ConfigStore } from './store.js';

const policy = (id: string, expression = '!has(pod.hostNetwork) || !pod.hostNetwork') => `id: ${id}\ntitle: ${id}\nvalidations: [{ expression: "${expression}" }]\n`;
const customIds = (c: Config) => c.catalog.filter((p) => 'custom' in p).map((p) => p.id);

let dir: string;
let lines: Array<Record<string, any>>;
let store: ConfigStore | undefined;
let metrics: Registry;

function open(config: string): ConfigStore {
  writeFileSync(join(dir, 'portcullis.yaml'), `apiVersion: portcullis.dev/v1alpha1\nkind: PortcullisConfig\n${config}`);
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _e, done) => void (lines.push(JSON.parse(String(chunk))), done()) }));
  store = createConfigStore(join(dir, 'portcullis.yaml'), logger, { intervalMs: 50, debounceMs: 50, metrics });
  return store;
}

// The next config the store swaps in.
const next = (s: ConfigStore): Promise<Config> => new Promise((resolve) => s.onChange(resolve));

async function logged(msg: string, from: number): Promise<Record<string, any>> {
  for (let i = 0; i < 200; i++) {
    const line = lines.slice(from).find((l) => l.msg === msg);
    if (line) return line;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`expected a "${msg}" log line, got ${JSON.stringify(lines.slice(from))}`);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-store-'));
  lines = [];
  metrics = new Registry();
});
afterEach(() => {
  store?.close();
  store = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('the config store and custom-policy directories', () => {
  it('loads a file added to a directory, keeps the last good config on a bad one, and drops a removed one', async () => {
    mkdirSync(join(dir, 'policies'));
    const s = open('customPolicies: { directories: [policies] }\n');
    expect(customIds(s.current())).toEqual([]);

    let changed = next(s);
    writeFileSync(join(dir, 'policies', 'host-network.yaml'), policy('no-host-network'));
    expect(customIds(await changed)).toEqual(['no-host-network']);
    expect(lines.find((l) => l.msg === 'config reloaded')).toMatchObject({ trigger: 'directory', directories: [join(dir, 'policies')] });

    const from = lines.length;
    writeFileSync(join(dir, 'policies', 'host-network.yaml'), policy('no-host-network', 'pod.hostNetwork.shout()'));
    const failed = await logged('config reload failed; keeping the last good config', from);
    expect(failed.err.problems[0].path).toBe(`${join(dir, 'policies', 'host-network.yaml')} document 0: /customPolicies/no-host-network/validations/0/expression`);
    expect(failed.err.problems[0].reason).toMatch(/^column \d+: /);
    expect(customIds(s.current())).toEqual(['no-host-network']);
    expect((await metrics.getSingleMetricAsString('portcullis_config_last_reload_successful')).trim()).toMatch(/ 0$/);

    changed = next(s);
    rmSync(join(dir, 'policies', 'host-network.yaml'));
    expect(customIds(await changed)).toEqual([]);
    const reloads = await metrics.getSingleMetricAsString('portcullis_config_reloads_total');
    expect(reloads).toContain('result="failure"} 1');
    expect(reloads).toContain('result="success"} 2');
  });

  it('follows a ConfigMap mount: the files are links into ..data, which is swapped', async () => {
    const mount = join(dir, 'mount');
    mkdirSync(join(mount, '..2026_01_01_00_00_00.1'), { recursive: true });
    writeFileSync(join(mount, '..2026_01_01_00_00_00.1', 'a.yaml'), policy('first'));
    symlinkSync('..2026_01_01_00_00_00.1', join(mount, '..data'));
    symlinkSync('..data/a.yaml', join(mount, 'a.yaml'));
    const s = open(`customPolicies: { directories: [${mount}] }\n`);
    expect(customIds(s.current())).toEqual(['first']);

    // kubelet: a new timestamped directory, ..data_tmp pointing at it, renamed over ..data
    const changed = next(s);
    mkdirSync(join(mount, '..2026_01_01_00_01_00.2'));
    writeFileSync(join(mount, '..2026_01_01_00_01_00.2', 'a.yaml'), policy('second'));
    symlinkSync('..2026_01_01_00_01_00.2', join(mount, '..data_tmp'));
    renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
    rmSync(join(mount, '..2026_01_01_00_00_00.1'), { recursive: true });
    expect(customIds(await changed)).toEqual(['second']);
  });

  it('keeps the last good config while a directory is missing, and watches the directories a new config names', async () => {
    mkdirSync(join(dir, 'one'));
    writeFileSync(join(dir, 'one', 'p.yaml'), policy('from-one'));
    const s = open('customPolicies: { directories: [one] }\n');
    const from = lines.length;
    renameSync(join(dir, 'one'), join(dir, 'moved'));
    const failed = await logged('config reload failed; keeping the last good config', from);
    expect(failed.err.problems[0]).toMatchObject({ path: `/customPolicies/directories/${join(dir, 'one')}`, reason: 'expected a readable directory, got ENOENT' });
    expect(customIds(s.current())).toEqual(['from-one']);

    let changed = next(s);
    writeFileSync(join(dir, 'portcullis.yaml'), 'apiVersion: portcullis.dev/v1alpha1\nkind: PortcullisConfig\ncustomPolicies: { directories: [moved] }\n');
    expect(customIds(await changed)).toEqual(['from-one']);
    changed = next(s);
    writeFileSync(join(dir, 'moved', 'q.yaml'), policy('from-moved'));
    expect(customIds(await changed)).toEqual(['from-one', 'from-moved']);
  });
});
