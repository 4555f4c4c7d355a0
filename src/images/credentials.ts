// Registry credentials from docker config.json `auths` (file or per-look-up, e.g. from imagePullSecrets).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PortcullisError } from '../errors.js';

export interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
  email?: string;
}

export interface DockerConfigJson {
  auths?: Record<string, DockerAuthEntry>;
}

export type Credential =
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'identityToken'; username: string; token: string }
  | { kind: 'registryToken'; token: string };

export class CredentialsError extends PortcullisError<'DOCKER_CONFIG_INVALID'> {
  constructor(message: string) {
    super('DOCKER_CONFIG_INVALID', message);
  }
}

const DOCKER_HUB_KEYS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

// Reduces a config.json key ("https://index.docker.io/v1/", "host:5000/ns") to host[/path].
export function normalizeAuthKey(key: string): { host: string; path: string } {
  let k = key.trim().replace(/^[a-z]+:\/\//i, '');
  k = k.replace(/\/+$/, '');
  const slash = k.indexOf('/');
  let host = (slash === -1 ? k : k.slice(0, slash)).toLowerCase();
  let path = slash === -1 ? '' : k.slice(slash + 1);
  if (DOCKER_HUB_KEYS.has(host)) {
    host = 'docker.io';
    if (path === 'v1' || path === 'v2') path = '';
  }
  return { host, path };
}

// Matches a host pattern with `*` for one DNS label (as the kubelet does for pull secrets).
function hostMatches(pattern: string, host: string): boolean {
  if (!pattern.includes('*')) return pattern === host;
  const p = pattern.split('.');
  const h = host.split('.');
  if (p.length !== h.length) return false;
  return p.every((label, i) => {
    const re = new RegExp(`^${label.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^.]*')}$`);
    return re.test(h[i] as string);
  });
}

// Decodes one auths entry; throws CredentialsError for a malformed `auth` field.
export function entryToCredential(entry: DockerAuthEntry): Credential | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  let username = typeof entry.username === 'string' ? entry.username : '';
  let password = typeof entry.password === 'string' ? entry.password : '';
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) throw new CredentialsError('expected auth to be base64 of "user:password", got no colon');
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') {
    return { kind: 'identityToken', username, token: entry.identitytoken };
  }
  if (typeof entry.registrytoken === 'string' && entry.registrytoken !== '') {
    return { kind: 'registryToken', token: entry.registrytoken };
  }
  if (username === '' && password === '') return undefined;
  return { kind: 'basic', username, password };
}

// Finds the credential for registry/repository: exact or wildcard host, longest path prefix wins.
export function findCredential(config: DockerConfigJson | undefined, registry: string, repository: string): Credential | undefined {
  const auths = config?.auths;
  if (!auths || typeof auths !== 'object') return undefined;
  const host = registry.toLowerCase();
  let best: { score: number; entry: DockerAuthEntry } | undefined;
  for (const [key, entry] of Object.entries(auths)) {
    const k = normalizeAuthKey(key);
    if (!hostMatches(k.host, host)) continue;
    if (k.path !== '' && repository !== k.path && !repository.startsWith(`${k.path}/`)) continue;
    const score = (k.host.includes('*') ? 0 : 1_000_000) + k.path.length;
    if (!best || score > best.score) best = { score, entry };
  }
  if (!best) return undefined;
  try {
    return entryToCredential(best.entry);
  } catch {
    return undefined;
  }
}

// Reads and checks a docker config.json; throws CredentialsError when it cannot be used.
export function loadDockerConfig(path: string): DockerConfigJson {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CredentialsError(`expected a readable docker config at ${path}, got ${(err as NodeJS.ErrnoException).code ?? 'an error'}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CredentialsError(`expected JSON in docker config ${path}, got invalid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CredentialsError(`expected an object in docker config ${path}`);
  }
  const auths = (parsed as { auths?: unknown }).auths;
  if (auths !== undefined && (typeof auths !== 'object' || auths === null || Array.isArray(auths))) {
    throw new CredentialsError(`expected "auths" to be an object in docker config ${path}`);
  }
  return { auths: (auths ?? {}) as Record<string, DockerAuthEntry> };
}

// A short stable id of a credential, used to keep per-credential caches apart (never logged raw).
export function credentialId(c: Credential | undefined): string {
  if (!c) return 'anon';
  const secret = c.kind === 'basic' ? `b:${c.username}:${c.password}` : c.kind === 'identityToken' ? `i:${c.username}:${c.token}` : `r:${c.token}`;
  return createHash('sha256').update(secret).digest('hex').slice(0, 16);
}
