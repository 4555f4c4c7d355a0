// portcullis serve's certificate and connection-limit flags: bad values stop at start with exit status 2 and a reason.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI } from './helm.js';

function serve(args: string[], env: NodeJS.ProcessEnv = {}) {
  const { POD_NAMESPACE: _ignored, ...rest } = process.env;
  return spawnSync(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', ...args], { encoding: 'utf8', timeout: 30_000, env: { ...rest, ...env } });
}

describe('portcullis serve --cert-mode and connection-limit flags', () => {
  it.each([
    [['--cert-mode', 'bogus'], '--cert-mode: expected file, generate or self'],
    [['--cert-mode', 'file'], '--cert-mode file: expected --tls-cert and --tls-key'],
    [['--cert-mode', 'self'], '--cert-mode self: expected --namespace or $POD_NAMESPACE'],
    [['--cert-mode', 'self', '--namespace', 'x', '--cert-validity', '90'], '--cert-validity: expected a duration'],
    [['--cert-mode', 'self', '--namespace', 'x', '--cert-renew-before', '91d'], '--cert-renew-before: expected less than --cert-validity'],
    [['--cert-mode', 'self', '--namespace', 'x', '--cert-ca-validity', '30d'], '--cert-ca-validity: expected more than --cert-validity'],
    [['--header-timeout', '0'], '--header-timeout: expected a positive number of seconds'],
    [['--request-timeout', 'x'], '--request-timeout: expected a positive number of seconds'],
    [['--idle-timeout=-1'], '--idle-timeout: expected a positive number of seconds'],
    [['--max-connections', '1.5'], '--max-connections: expected a positive integer'],
  ])('%j is refused', (args, message) => {
    const res = serve(args);
    expect(res.status).toBe(2);
    expect(res.stderr).toContain(message);
  });

  it('documents the self-mode flags in --help', () => {
    const res = spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' });
    for (const flag of ['--cert-mode', '--cert-secret', '--webhook-config', '--service-name', '--namespace', '--kubeconfig', '--cert-renew-before']) expect(res.stdout).toContain(flag);
  });
});

describe('portcullis serve connection-limit flags', () => {
  it('documents the limits and their defaults in --help', () => {
    const res = spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' });
    for (const flag of ['--header-timeout SEC', '(default 10)', '--request-timeout SEC', '(default 30)', '--idle-timeout SEC', '(default 120)', '--max-connections N', '(default 512)']) expect(res.stdout).toContain(flag);
  });
});
