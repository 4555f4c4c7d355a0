// Builds the standard test images (scripts/registry-images.sh, umoci) once per process, assembles the
// multi-arch index in the OCI layout, and pushes them to a test registry with skopeo.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestRegistry } from './registry.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const SCRIPT = resolve(here, '../../scripts/registry-images.sh');

export interface TestImage {
  /** full reference, host/repository:tag */
  ref: string;
  repository: string;
  tag: string;
  /** digest of what the tag names (the index for multi) */
  digest: string;
  /** the config User ('' when unset); for multi, the linux/amd64 one */
  user: string;
}

/** the single-platform images and the User each carries */
export const USER_IMAGES: Record<string, string> = {
  'user-empty': '',
  'user-0': '0',
  'user-root': 'root',
  'user-0-0': '0:0',
  'user-1000': '1000',
  'user-1000-1000': '1000:1000',
  'user-nginx': 'nginx',
  'user-65532': '65532:65532',
};

interface Layout {
  dir: string;
  /** tag -> manifest (or index) digest */
  digests: Record<string, string>;
}

let layoutPromise: Promise<Layout> | undefined;

interface OciIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Array<{ mediaType: string; digest: string; size: number; platform?: object; annotations?: Record<string, string> }>;
}

const REF_NAME = 'org.opencontainers.image.ref.name';

// Builds the layout once per process and adds the index "multi" (linux/amd64 + linux/arm64/v8).
export function buildTestLayout(): Promise<Layout> {
  layoutPromise ??= (async () => {
    const root = mkdtempSync(join(tmpdir(), 'portcullis-images-'));
    process.once('exit', () => rmSync(root, { recursive: true, force: true }));
    const dir = join(root, 'layout');
    await run('bash', [SCRIPT, dir], { timeout: 120_000 });
    const indexPath = join(dir, 'index.json');
    const top = JSON.parse(readFileSync(indexPath, 'utf8')) as OciIndex;
    const byTag = (t: string) => {
      const m = top.manifests.find((d) => d.annotations?.[REF_NAME] === t);
      if (!m) throw new Error(`layout has no tag ${t}`);
      return m;
    };
    const amd = byTag('multi-amd64');
    const arm = byTag('multi-arm64');
    const multi: OciIndex = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: amd.mediaType, digest: amd.digest, size: amd.size, platform: { architecture: 'amd64', os: 'linux' } },
        { mediaType: arm.mediaType, digest: arm.digest, size: arm.size, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
      ],
    };
    const bytes = Buffer.from(JSON.stringify(multi));
    const hex = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(join(dir, 'blobs', 'sha256', hex), bytes);
    top.manifests.push({ mediaType: multi.mediaType as string, digest: `sha256:${hex}`, size: bytes.length, annotations: { [REF_NAME]: 'multi' } });
    writeFileSync(indexPath, JSON.stringify(top));
    const digests: Record<string, string> = {};
    for (const m of top.manifests) {
      const t = m.annotations?.[REF_NAME];
      if (t) digests[t] = m.digest;
    }
    return { dir, digests };
  })();
  return layoutPromise;
}

// skopeo flags for pushing to a test registry.
export function skopeoDestFlags(registry: TestRegistry): string[] {
  const flags = ['--insecure-policy'];
  if (registry.tls && registry.certDir) flags.push('--dest-cert-dir', registry.certDir);
  else flags.push('--dest-tls-verify=false');
  if (registry.username && registry.password) flags.push('--dest-creds', `${registry.username}:${registry.password}`);
  return flags;
}

// Copies one layout tag to host/repository:tag; returns the digest the registry stored.
export async function pushLayoutTag(registry: TestRegistry, tag: string, repository: string, destTag: string, extra: string[] = []): Promise<string> {
  const layout = await buildTestLayout();
  const digestDir = mkdtempSync(join(tmpdir(), 'portcullis-digest-'));
  const digestFile = join(digestDir, 'digest');
  const dest = `docker://${registry.host}/${repository}:${destTag}`;
  try {
    await run('skopeo', ['copy', '--quiet', ...skopeoDestFlags(registry), '--digestfile', digestFile, ...extra, `oci:${layout.dir}:${tag}`, dest], { timeout: 60_000 });
  } catch (err) {
    const e = err as { stderr?: string };
    throw new Error(`skopeo copy ${tag} -> ${dest} failed: ${e.stderr ?? String(err)}\nregistry log: ${registry.logs()}`);
  }
  try {
    return readFileSync(digestFile, 'utf8').trim();
  } finally {
    rmSync(digestDir, { recursive: true, force: true });
  }
}

// Pushes the standard images: user-* (OCI, linux/amd64), multi (OCI index: amd64 User 1000, arm64 User root),
// docker-v2s2 (Docker schema 2 manifest, User 1000), docker-list (the multi index as a Docker manifest list). Repositories are `${prefix}<name>`, tag v1;
// `only` pushes just the named user-* images.
export async function pushTestImages(registry: TestRegistry, opts: { prefix?: string; only?: string[] } = {}): Promise<Record<string, TestImage>> {
  const prefix = opts.prefix ?? 'portcullis/';
  const want = (name: string) => !opts.only || opts.only.includes(name);
  const layout = await buildTestLayout();
  const out: Record<string, TestImage> = {};
  const add = (name: string, digest: string, user: string) => {
    const repository = `${prefix}${name}`;
    out[name] = { ref: `${registry.host}/${repository}:v1`, repository, tag: 'v1', digest, user };
  };
  for (const [name, user] of Object.entries(USER_IMAGES)) {
    if (want(name)) add(name, await pushLayoutTag(registry, name, `${prefix}${name}`, 'v1'), user);
  }
  if (opts.only) return out;
  add('multi', await pushLayoutTag(registry, 'multi', `${prefix}multi`, 'v1', ['--all']), '1000');
  out['multi-amd64'] = { ...(out.multi as TestImage), digest: layout.digests['multi-amd64'] as string, user: '1000' };
  out['multi-arm64'] = { ...(out.multi as TestImage), digest: layout.digests['multi-arm64'] as string, user: 'root' };
  add('docker-v2s2', await pushLayoutTag(registry, 'user-1000', `${prefix}docker-v2s2`, 'v1', ['--format', 'v2s2']), '1000');
  add('docker-list', await pushLayoutTag(registry, 'multi', `${prefix}docker-list`, 'v1', ['--all', '--format', 'v2s2']), '1000');
  return out;
}
