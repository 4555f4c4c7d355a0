// Starts Debian's docker-registry (CNCF distribution) on 127.0.0.1 for tests: plain HTTP or TLS,
// anonymous, htpasswd Basic, or token auth with a small JWT issuer run here.

import { spawn, type ChildProcess } from 'node:child_process';
import { createSign, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { freePort } from '../e2e/proc.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { issueCert, makeCa, type TestCa } from './registry-pki.js';
import { listenLoopback } from './listen.js';

export type RegistryAuth = 'none' | 'basic' | 'token';

export interface StartRegistryOptions {
  auth: RegistryAuth;
  tls: boolean;
  /** reuse a CA (e.g. one shared by several registries); made fresh otherwise */
  ca?: TestCa;
  /** command prefix, e.g. ['taskset', '-c', '1'] (the bench keeps the registry off the server's CPU) */
  pin?: readonly string[];
}

export interface TokenIssuer {
  url: string;
  /** token requests served, by outcome */
  counts: { issued: number; denied: number };
  /** the refresh token accepted for the identitytoken (OAuth2 refresh_token grant) flow */
  refreshToken: string;
  stop(): Promise<void>;
}

export interface TestRegistry {
  /** host:port, as written in image references */
  host: string;
  /** base URL, http(s)://127.0.0.1:port */
  url: string;
  auth: RegistryAuth;
  tls: boolean;
  /** CA that signed the registry's TLS certificate (tls only) */
  caPem?: string;
  /** path of that CA as a PEM file */
  caFile?: string;
  /** directory holding ca.crt, for skopeo --dest-cert-dir */
  certDir?: string;
  username?: string;
  password?: string;
  /** docker config.json content with this registry's credentials (basic/token) */
  dockerConfig?: { auths: Record<string, { auth: string }> };
  tokenIssuer?: TokenIssuer;
  /** registry process output, for failure messages */
  logs(): string;
  stop(): Promise<void>;
}

export const TEST_USER = 'portcullis';
export const TEST_PASSWORD = 'correct-horse-battery';
const SERVICE = 'portcullis-test-registry';
const ISSUER = 'portcullis-test-issuer';

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

function basicOk(req: IncomingMessage): boolean {
  const h = req.headers.authorization ?? '';
  if (!h.startsWith('Basic ')) return false;
  return Buffer.from(h.slice(6), 'base64').toString('utf8') === `${TEST_USER}:${TEST_PASSWORD}`;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// A token issuer for the registry's `auth: token` mode: signs RS256 JWTs with an x5c chain to the CA.
// Anonymous callers get pull on repositories under public/; TEST_USER (Basic) or the refresh token get everything asked for.
export async function startTokenIssuer(ca: TestCa): Promise<TokenIssuer> {
  const signer = issueCert(ca, { commonName: 'portcullis test token signer' });
  const refreshToken = `refresh-${randomUUID()}`;
  const counts = { issued: 0, denied: 0 };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      let scopes = url.searchParams.getAll('scope');
      let service = url.searchParams.get('service') ?? '';
      let authed = basicOk(req);
      if (req.method === 'POST') {
        const form = new URLSearchParams(await readBody(req));
        scopes = form.getAll('scope');
        service = form.get('service') ?? service;
        authed = form.get('grant_type') === 'refresh_token' && form.get('refresh_token') === refreshToken;
        if (!authed) {
          counts.denied++;
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}');
          return;
        }
      } else if (req.headers.authorization && !authed) {
        counts.denied++;
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
        return;
      }
      const access = scopes.flatMap((s) => s.split(' ')).flatMap((s) => {
        const [type, name, actions] = s.split(':');
        if (type !== 'repository' || !name || !actions) return [];
        const granted = authed ? actions.split(',') : name.startsWith('public/') ? actions.split(',').filter((a) => a === 'pull') : [];
        return granted.length ? [{ type, name, actions: granted }] : [];
      });
      const now = Math.floor(Date.now() / 1000);
      const header = { typ: 'JWT', alg: 'RS256', x5c: [signer.derBase64] };
      const claims = { iss: ISSUER, sub: authed ? TEST_USER : '', aud: service || SERVICE, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access };
      const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
      const sig = createSign('RSA-SHA256').update(input).sign(signer.keyPem);
      const token = `${input}.${b64url(sig)}`;
      counts.issued++;
      const body = req.method === 'POST' ? { access_token: token, expires_in: 300 } : { token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    })().catch(() => res.destroy());
  });
  const listening = await listenLoopback(server);
  return {
    url: `http://${listening.host}/token`,
    counts,
    refreshToken,
    stop: listening.stop,
  };
}

async function waitReady(url: string, child: ChildProcess, caPem: string | undefined, logs: () => string): Promise<void> {
  const { Agent, request } = await import('undici');
  const dispatcher = new Agent(caPem ? { connect: { ca: caPem } } : {});
  try {
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${logs()}`);
      try {
        const res = await request(`${url}/v2/`, { dispatcher });
        await res.body.dump();
        if (res.statusCode === 200 || res.statusCode === 401) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`docker-registry did not answer at ${url}: ${logs()}`);
  } finally {
    await dispatcher.close();
  }
}

// Starts a registry on a free 127.0.0.1 port with temporary storage; stop() kills it and removes the files.
export async function startRegistry(opts: StartRegistryOptions): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-registry-'));
  const ca = opts.tls || opts.auth === 'token' ? (opts.ca ?? makeCa()) : undefined;
  let issuer: TokenIssuer | undefined;
  const lines: string[] = ['version: 0.1', 'log:', '  level: error', '  accesslog:', '    disabled: true', 'storage:', '  cache:', '    blobdescriptor: inmemory', '  filesystem:', `    rootdirectory: ${join(dir, 'data')}`, '  delete:', '    enabled: true'];
  const port = await freePort();
  lines.push('http:', `  addr: 127.0.0.1:${port}`, `  secret: ${randomUUID()}`);
  if (opts.tls && ca) {
    const server = issueCert(ca, { commonName: '127.0.0.1', server: true });
    writeFileSync(join(dir, 'server.crt'), server.certPem);
    writeFileSync(join(dir, 'server.key'), server.keyPem);
    lines.push('  tls:', `    certificate: ${join(dir, 'server.crt')}`, `    key: ${join(dir, 'server.key')}`);
  }
  if (ca) {
    writeFileSync(join(dir, 'ca.pem'), ca.certPem);
    const certDir = join(dir, 'certs');
    mkdirSync(certDir, { recursive: true });
    writeFileSync(join(certDir, 'ca.crt'), ca.certPem);
  }
  if (opts.auth === 'basic') {
    writeFileSync(join(dir, 'htpasswd'), `${TEST_USER}:${bcrypt.hashSync(TEST_PASSWORD, 5)}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: portcullis-test', `    path: ${join(dir, 'htpasswd')}`);
  } else if (opts.auth === 'token' && ca) {
    issuer = await startTokenIssuer(ca);
    lines.push('auth:', '  token:', `    realm: ${issuer.url}`, `    service: ${SERVICE}`, `    issuer: ${ISSUER}`, `    rootcertbundle: ${join(dir, 'ca.pem')}`);
  }
  const configPath = join(dir, 'config.yml');
  writeFileSync(configPath, `${lines.join('\n')}\n`);
  const out: string[] = [];
  const argv = [...(opts.pin ?? []), 'docker-registry', 'serve', configPath];
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (b: Buffer) => {
    out.push(b.toString('utf8'));
    if (out.length > 200) out.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new Error('docker-registry not found: run scripts/registry-images.sh --install') : err),
    ),
  );
  const logs = () => out.join('').slice(-4000);
  const host = `127.0.0.1:${port}`;
  const url = `${opts.tls ? 'https' : 'http'}://${host}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    await issuer?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.race([waitReady(url, child, opts.tls ? ca?.certPem : undefined, logs), spawnError]);
  } catch (err) {
    await stop();
    throw err;
  }
  const creds = opts.auth === 'none' ? undefined : { username: TEST_USER, password: TEST_PASSWORD };
  return {
    host,
    url,
    auth: opts.auth,
    tls: opts.tls,
    ...(opts.tls && ca ? { caPem: ca.certPem, caFile: join(dir, 'ca.pem'), certDir: join(dir, 'certs') } : {}),
    ...(creds ?? {}),
    ...(creds ? { dockerConfig: { auths: { [host]: { auth: Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString('base64') } } } } : {}),
    ...(issuer ? { tokenIssuer: issuer } : {}),
    logs,
    stop,
  };
}

