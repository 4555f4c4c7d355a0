// The built `portcullis serve` reloading custom policies from watched directories: a file added, a file broken, and a
// ConfigMap-style `..data` swap, each seen in the next review.
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS, objectOf, reviewOf, specWith } from '../helpers/pods.js';
import type { Json } from '../helpers/pods.js';
import { https1, startPortcullis } from '../helpers/server.js';
import type { Portcullis } from '../helpers/server.js';

const PINNED = `@sha256:${'ab'.repeat(32)}`;
// a compliant Pod labelled tier=experimental, without a team label
const pod = (): Json => {
  const obj = objectOf(KINDS[0]!, specWith((s) => void (s.containers[0].image += PINNED)), 'labelled');
  obj.metadata.labels = { tier: 'experimental' };
  return obj;
};
const labelPolicy = (id: string, expression: string, message: string) => `# ${id}
id: ${id}
title: ${message}
validations:
  - expression: "${expression}"
    message: ${message}
    fix: change the labels
`;
const NO_EXPERIMENTAL = labelPolicy('no-experimental-tier', "!has(object.metadata.labels) || !('tier' in object.metadata.labels) || object.metadata.labels['tier'] != 'experimental'", 'tier experimental is not allowed');

let srv: Portcullis;
let root: string;
let n = 0;

async function review(): Promise<Json> {
  const res = await https1(`${srv.url}/validate`, { ca: srv.caPem!, body: JSON.stringify(reviewOf(pod(), { uid: `r${++n}` })) });
  expect(res.status, res.text).toBe(200);
  return res.json<Json>().response as Json;
}

// kubelet's ConfigMap update: a new timestamped directory, ..data_tmp pointing at it, renamed over ..data.
function configMapVersion(mount: string, version: string, files: Record<string, string>): void {
  mkdirSync(join(mount, version));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(mount, version, name), text);
  symlinkSync(version, join(mount, '..data_tmp'));
  renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'portcullis-custom-reload-'));
  mkdirSync(join(root, 'policies'));
  const mount = join(root, 'mount');
  mkdirSync(mount);
  configMapVersion(mount, '..2026_01_01_00_00_00.1', { 'team.yaml': labelPolicy('require-team', 'true', 'no team label') });
  symlinkSync('..data/team.yaml', join(mount, 'team.yaml'));
  srv = await startPortcullis({
    config: `apiVersion: portcullis.dev/v1alpha1\nkind: PortcullisConfig\ncustomPolicies:\n  directories: [${join(root, 'policies')}, ${mount}]\n`,
  });
});
afterAll(async () => {
  await srv?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('portcullis serve: custom-policy directories are reloaded', () => {
  it('applies a file added to a watched directory to the next review', async () => {
    expect((await review()).allowed).toBe(true);
    const from = srv.logs().length;
    writeFileSync(join(root, 'policies', 'tier.yaml'), NO_EXPERIMENTAL);
    const line = await srv.waitForLog((l) => l.msg === 'config reloaded', { from });
    expect(line).toMatchObject({ trigger: 'directory', directories: [join(root, 'policies')] });
    const denied = await review();
    expect(denied.allowed).toBe(false);
    expect(denied.status.message).toContain('[no-experimental-tier] pod: tier experimental is not allowed — change the labels');
  });

  it('keeps the last good policy when the file breaks, and logs the file, policy, rule and column', async () => {
    const from = srv.logs().length;
    writeFileSync(join(root, 'policies', 'tier.yaml'), NO_EXPERIMENTAL.replace("labels['tier'] !=", "labels['tier'].shout() !="));
    const line = await srv.waitForLog((l) => l.msg === 'config reload failed; keeping the last good config', { from });
    expect(line.err.problems[0].path).toBe(`${join(root, 'policies', 'tier.yaml')} document 0: /customPolicies/no-experimental-tier/validations/0/expression`);
    expect(line.err.problems[0].reason).toMatch(/^column \d+: /);
    expect(line.trigger).toBe('directory');
    const still = await review();
    expect(still.allowed).toBe(false);
    expect(still.status.message).toContain('[no-experimental-tier]');
    const metrics = await https1(`${srv.url}/metrics`, { ca: srv.caPem! });
    expect(metrics.text).toMatch(/^portcullis_config_last_reload_successful 0$/m);
  });

  it('follows a ConfigMap ..data swap in another watched directory', async () => {
    let from = srv.logs().length;
    rmSync(join(root, 'policies', 'tier.yaml'));
    await srv.waitForLog((l) => l.msg === 'config reloaded', { from });
    expect((await review()).allowed).toBe(true);

    from = srv.logs().length;
    configMapVersion(join(root, 'mount'), '..2026_01_01_00_01_00.2', { 'team.yaml': labelPolicy('require-team', "has(object.metadata.labels) && 'team' in object.metadata.labels", 'no team label') });
    await srv.waitForLog((l) => l.msg === 'config reloaded', { from });
    const denied = await review();
    expect(denied.allowed).toBe(false);
    expect(denied.status.message).toContain('[require-team] pod: no team label — change the labels');
  });
});
