// Registry auth: WWW-Authenticate challenges, the Bearer token flow (cached until expiry), Basic.

import { LRUCache } from 'lru-cache';
import type { Dispatcher } from 'undici';
import { credentialId, type Credential } from './credentials.js';
import { RegistryError } from './errors.js';
import { send, type HttpObserver } from './http.js';
import { boundedCache, entryBytes } from './cache-size.js';

export interface Challenge {
  scheme: 'bearer' | 'basic';
  params: Record<string, string>;
}

// Parses a WWW-Authenticate header into its challenges (scheme + auth-params).
export function parseChallenges(header: string | undefined): Challenge[] {
  if (!header || header.length > 8192) return [];
  const out: Challenge[] = [];
  const re = /\s*([A-Za-z][A-Za-z0-9_-]*)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^\s,]*))?\s*(,|$)/y;
  let current: { scheme: string; params: Record<string, string> } | undefined;
  let i = 0;
  while (i < header.length) {
    // a scheme token is followed by whitespace and a param, or ends the challenge
    const schemeMatch = /\s*([A-Za-z][A-Za-z0-9_-]*)\s+(?=[A-Za-z][A-Za-z0-9_-]*\s*=)/y;
    schemeMatch.lastIndex = i;
    const sm = schemeMatch.exec(header);
    if (sm) {
      current = { scheme: (sm[1] as string).toLowerCase(), params: {} };
      out.push(current as Challenge);
      i = schemeMatch.lastIndex;
      continue;
    }
    re.lastIndex = i;
    const m = re.exec(header);
    if (!m || m[0].length === 0) break;
    i = re.lastIndex;
    const name = m[1] as string;
    if (m[2] === undefined) {
      // a bare scheme with no params ("Basic")
      current = { scheme: name.toLowerCase(), params: {} };
      out.push(current as Challenge);
      continue;
    }
    let value = m[2];
    if (value.startsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    if (current) current.params[name.toLowerCase()] = value;
  }
  return out.filter((c): c is Challenge => c.scheme === 'bearer' || c.scheme === 'basic');
}

export function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

interface CachedToken {
  token: string;
}

export interface TokenRequest {
  registry: string;
  challenge: Challenge;
  scope: string;
  credential: Credential | undefined;
  signal: AbortSignal;
  maxBytes: number;
}

const TOKEN_RE = /^[\x21-\x7e]{1,16384}$/;
const MIN_TOKEN_TTL_S = 60;

export class TokenStore {
  // Bearer tokens can be kilobytes each: bounded in bytes too
  private readonly tokens = boundedCache<string, CachedToken>({ maxEntries: 2000, maxBytes: 4 * 2 ** 20, sizeOf: (v, k) => entryBytes(k, v.token) });
  private readonly inflight = new Map<string, Promise<string>>();
  /** the last challenge each registry answered with, so later requests skip the 401 */
  private readonly challenges = new LRUCache<string, Challenge>({ max: 1000 });

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly observe?: HttpObserver,
  ) {}

  rememberChallenge(registry: string, c: Challenge): void {
    this.challenges.set(registry, c);
  }

  knownChallenge(registry: string): Challenge | undefined {
    return this.challenges.get(registry);
  }

  private key(r: TokenRequest): string {
    return [r.registry, r.challenge.params.realm ?? '', r.challenge.params.service ?? '', r.scope, credentialId(r.credential)].join('|');
  }

  cached(r: TokenRequest): string | undefined {
    return this.tokens.get(this.key(r))?.token;
  }

  invalidate(r: TokenRequest): void {
    this.tokens.delete(this.key(r));
  }

  // A bearer token for the challenge and scope: from cache, or fetched once for concurrent callers.
  async token(r: TokenRequest): Promise<string> {
    if (r.credential?.kind === 'registryToken') return r.credential.token;
    const key = this.key(r);
    const hit = this.tokens.get(key);
    if (hit) return hit.token;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.fetchToken(r, key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async fetchToken(r: TokenRequest, key: string): Promise<string> {
    const { registry, challenge, scope, credential } = r;
    const realmText = challenge.params.realm;
    let realm: URL;
    try {
      if (!realmText) throw new Error('no realm');
      realm = new URL(realmText);
      if (realm.protocol !== 'https:' && realm.protocol !== 'http:') throw new Error('bad scheme');
    } catch {
      throw new RegistryError('TOKEN_INVALID', `${registry}: expected an http(s) token realm in the challenge, got "${(realmText ?? '').slice(0, 100)}"`, { registry });
    }
    const service = challenge.params.service;
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: 'application/json' };
    let method: 'GET' | 'POST' = 'GET';
    let body: string | undefined;
    if (credential?.kind === 'identityToken') {
      method = 'POST';
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credential.token, client_id: 'portcullis' });
      if (service) form.set('service', service);
      if (scope) form.set('scope', scope);
      body = form.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      if (service) realm.searchParams.set('service', service);
      if (scope) realm.searchParams.set('scope', scope);
      if (credential?.kind === 'basic') {
        headers.authorization = basicHeader(credential.username, credential.password);
        realm.searchParams.set('account', credential.username);
      }
    }
    const res = await send(
      this.dispatcher,
      { method, url: realm, headers, ...(body !== undefined ? { body } : {}), registry, signal: r.signal, maxBytes: Math.min(r.maxBytes, 1 << 20) },
      this.observe,
    );
    if (res.status === 401 || res.status === 403) {
      throw new RegistryError('REGISTRY_UNAUTHORIZED', `${registry}: token endpoint answered ${res.status}`, { registry, status: res.status });
    }
    if (res.status === 429) {
      throw new RegistryError('REGISTRY_RATE_LIMITED', `${registry}: token endpoint answered 429`, { registry, status: 429 });
    }
    if (res.status < 200 || res.status >= 300) {
      throw new RegistryError('REGISTRY_HTTP_STATUS', `${registry}: token endpoint answered ${res.status}`, { registry, status: res.status });
    }
    let doc: unknown;
    try {
      doc = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new RegistryError('TOKEN_INVALID', `${registry}: expected JSON from the token endpoint, got invalid JSON`, { registry });
    }
    if (typeof doc !== 'object' || doc === null) {
      throw new RegistryError('TOKEN_INVALID', `${registry}: expected a JSON object from the token endpoint`, { registry });
    }
    const d = doc as { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    const token = typeof d.token === 'string' && d.token !== '' ? d.token : d.access_token;
    if (typeof token !== 'string' || !TOKEN_RE.test(token)) {
      throw new RegistryError('TOKEN_INVALID', `${registry}: expected a token string from the token endpoint, got none`, { registry });
    }
    const expiresIn = typeof d.expires_in === 'number' && Number.isFinite(d.expires_in) && d.expires_in > 0 ? d.expires_in : MIN_TOKEN_TTL_S;
    let issued = Date.now();
    if (typeof d.issued_at === 'string') {
      const t = Date.parse(d.issued_at);
      if (Number.isFinite(t) && t <= issued) issued = t;
    }
    // keep it until 10 s before expiry, and never for less than a second
    const ttl = Math.max(1000, issued + Math.min(expiresIn, 86_400) * 1000 - Date.now() - 10_000);
    this.tokens.set(key, { token }, { ttl });
    return token;
  }
}

export const USER_AGENT = 'portcullis-registry-client/0.1';
