// HTTP for registries: undici with system + extra CAs, proxy from the environment, deadlines,
// bounded bodies and manual redirects (so credentials never follow a redirect to another host).

import { readFileSync } from 'node:fs';
import { getCACertificates, rootCertificates } from 'node:tls';
import { EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import { RegistryError } from './errors.js';

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: string;
  /** registry the request is for (error messages, metrics) */
  registry: string;
  /** aborts the exchange; raised when the deadline passes */
  signal: AbortSignal;
  /** largest body accepted */
  maxBytes: number;
  /** whether to read the body of a non-2xx answer (else it is drained, bounded) */
  readErrorBody?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** URL that answered, after redirects */
  url: URL;
}

export type HttpObserver = (registry: string, status: number | 'error') => void;

export const MAX_REDIRECTS = 5;

// CA list for registry TLS: Node's bundled and system CAs plus an optional PEM file.
let systemCas: readonly string[] | undefined;

export function buildCaList(caFile?: string): string[] {
  const cas = new Set<string>(rootCertificates);
  if (!systemCas) {
    // read once per process: the system store takes a few hundred ms to load
    try {
      systemCas = getCACertificates('system');
    } catch {
      systemCas = [];
    }
  }
  for (const c of systemCas) cas.add(c);
  if (caFile) {
    const pem = readFileSync(caFile, 'utf8');
    for (const block of pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) cas.add(block);
  }
  return [...cas];
}

// One dispatcher for all registries; HTTPS_PROXY / HTTP_PROXY / NO_PROXY come from the environment.
export function createDispatcher(opts: { caFile?: string; connections?: number }): Dispatcher {
  const ca = buildCaList(opts.caFile);
  return new EnvHttpProxyAgent({
    connect: { ca, timeout: 10_000 },
    requestTls: { ca },
    connections: opts.connections ?? 32,
    keepAliveTimeout: 30_000,
    headersTimeout: 0,
    bodyTimeout: 0,
  } as ConstructorParameters<typeof EnvHttpProxyAgent>[0]);
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'HOSTNAME_MISMATCH',
]);

const NETWORK_HINTS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
  EPIPE: 'connection closed',
  ETIMEDOUT: 'connect timeout',
};

// Maps a thrown network / abort error to a RegistryError.
export function networkError(err: unknown, registry: string, signal: AbortSignal): RegistryError {
  if (err instanceof RegistryError) return err;
  if (signal.aborted) {
    return new RegistryError('REGISTRY_TIMEOUT', `${registry}: no answer before the deadline`, { registry, cause: err });
  }
  const code = (err as { code?: string })?.code ?? (err as { cause?: { code?: string } })?.cause?.code;
  if (code && (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_'))) {
    return new RegistryError('REGISTRY_UNREACHABLE', `${registry}: TLS failed (${code})`, { registry, transient: false, cause: err });
  }
  if (code?.startsWith('HPE_')) {
    return new RegistryError('REGISTRY_UNREACHABLE', `${registry}: answer is not valid HTTP (${code})`, { registry, transient: false, cause: err });
  }
  const hint = code ? (NETWORK_HINTS[code] ?? code) : err instanceof Error ? err.message.slice(0, 200) : 'network error';
  return new RegistryError('REGISTRY_UNREACHABLE', `${registry}: ${hint}`, { registry, cause: err });
}

function headerRecord(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

// Reads at most `limit` bytes of a body; throws RESPONSE_TOO_LARGE past it.
async function readBounded(body: Dispatcher.ResponseData['body'], limit: number, registry: string, declared: string | undefined): Promise<Buffer> {
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > limit) {
    body.destroy();
    throw new RegistryError('RESPONSE_TOO_LARGE', `${registry}: expected at most ${limit} bytes, got Content-Length ${declared}`, { registry });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw new RegistryError('RESPONSE_TOO_LARGE', `${registry}: expected at most ${limit} bytes, got more`, { registry });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

// Drains a body we do not need, bounded, so the connection can be reused.
async function drain(body: Dispatcher.ResponseData['body'], signal: AbortSignal): Promise<void> {
  try {
    await body.dump({ limit: 65536, signal });
  } catch {
    body.destroy();
  }
}

// One exchange without following redirects.
export async function sendOnce(dispatcher: Dispatcher, req: HttpRequest, observe?: HttpObserver): Promise<HttpResponse> {
  let res: Dispatcher.ResponseData;
  try {
    res = await request(req.url, {
      dispatcher,
      method: req.method,
      headers: req.headers,
      signal: req.signal,
      ...(req.body !== undefined ? { body: req.body } : {}),
    });
  } catch (err) {
    observe?.(req.registry, 'error');
    throw networkError(err, req.registry, req.signal);
  }
  observe?.(req.registry, res.statusCode);
  const headers = headerRecord(res.headers);
  const ok = res.statusCode >= 200 && res.statusCode < 300;
  try {
    if (req.method === 'HEAD' || (!ok && !req.readErrorBody)) {
      await drain(res.body, req.signal);
      return { status: res.statusCode, headers, body: Buffer.alloc(0), url: req.url };
    }
    const body = await readBounded(res.body, ok ? req.maxBytes : Math.min(req.maxBytes, 65536), req.registry, headers['content-length']);
    return { status: res.statusCode, headers, body, url: req.url };
  } catch (err) {
    res.body.destroy();
    throw networkError(err, req.registry, req.signal);
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

// One exchange following up to MAX_REDIRECTS redirects; Authorization is dropped when the origin changes.
export async function send(dispatcher: Dispatcher, req: HttpRequest, observe?: HttpObserver): Promise<HttpResponse> {
  let current = req;
  for (let hop = 0; ; hop++) {
    const res = await sendOnce(dispatcher, current, observe);
    if (!isRedirect(res.status)) return res;
    if (hop >= MAX_REDIRECTS) {
      throw new RegistryError('TOO_MANY_REDIRECTS', `${req.registry}: more than ${MAX_REDIRECTS} redirects`, { registry: req.registry });
    }
    const location = res.headers.location;
    let next: URL;
    try {
      if (!location) throw new Error('no Location');
      next = new URL(location, current.url);
    } catch {
      throw new RegistryError('REGISTRY_HTTP_STATUS', `${req.registry}: ${res.status} redirect without a valid Location`, { registry: req.registry, status: res.status });
    }
    if (next.protocol !== 'https:' && next.protocol !== 'http:') {
      throw new RegistryError('REGISTRY_HTTP_STATUS', `${req.registry}: redirect to unsupported scheme ${next.protocol}`, { registry: req.registry, status: res.status });
    }
    if (current.url.protocol === 'https:' && next.protocol === 'http:') {
      throw new RegistryError('REGISTRY_HTTP_STATUS', `${req.registry}: refused redirect from https to plain http`, { registry: req.registry, status: res.status });
    }
    const headers = { ...current.headers };
    if (next.origin !== current.url.origin) delete headers.authorization;
    const method = res.status === 303 && current.method === 'POST' ? 'GET' : current.method;
    current = { ...current, url: next, headers, method, ...(method === 'GET' ? { body: undefined } : {}) };
  }
}
