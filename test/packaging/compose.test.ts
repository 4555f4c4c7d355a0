// deploy/compose.yaml runs portcullis the way the chart does (checked on the file: no Docker engine here).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { REPO_ROOT } from './dockerfile.js';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  tmpfs?: string[];
  command?: string[];
  network_mode?: string;
  ports?: string[];
}
const compose = parse(readFileSync(join(REPO_ROOT, 'deploy', 'compose.yaml'), 'utf8')) as {
  services: Record<string, Service>;
  configs: Record<string, { content: string }>;
};

describe('deploy/compose.yaml', () => {
  it('builds portcullis from the Dockerfile and runs it as 65532, read-only, without capabilities', () => {
    const p = compose.services.portcullis!;
    expect(p.build).toEqual({ context: '..', dockerfile: 'Dockerfile', args: expect.any(Object) });
    expect(p.image).toMatch(/^portcullis:\d+\.\d+\.\d+$/);
    expect(p.user).toBe('65532:65532');
    expect(p.read_only).toBe(true);
    expect(p.cap_drop).toEqual(['ALL']);
    expect(p.security_opt).toContain('no-new-privileges:true');
    expect(p.tmpfs?.[0]).toMatch(/^\/tmp:uid=65532/);
    expect(p.command?.[0]).toBe('serve');
    expect(p.command).toContain('--cert-dir=/tmp/portcullis-certs');
  });

  it('pins the registry image by digest and publishes only on 127.0.0.1', () => {
    const r = compose.services.registry!;
    expect(r.image).toMatch(/^registry:\d+@sha256:[a-f0-9]{64}$/);
    for (const port of r.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
    expect(compose.services.portcullis!.network_mode).toBe('service:registry');
  });

  it('ships a valid PortcullisConfig trusting the local registry over HTTP', () => {
    const config = parseConfig(compose.configs['portcullis-config']!.content);
    expect(config.mode).toBe('enforce');
    expect((config.registry as { insecure?: string[] }).insecure).toEqual(['localhost:5000']);
  });
});
