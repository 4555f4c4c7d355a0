// A small JSON client for the Kubernetes API, shared by every command: @kubernetes/client-node's KubeConfig for the connection and
// credentials (kubeconfig, in-cluster, exec plugins), raw JSON in and out (the engine reads objects exactly as the
// webhook receives them), one keep-alive agent, and a count of the calls made.
import { Agent, request as httpsRequest } from 'node:https';
import type { RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { PortcullisError } from '../errors.js';

export class KubeApiError extends PortcullisError<'KUBE_API'> {
  readonly status: number;
  readonly reason: string;
  /** the Retry-After header of a 429 answer, when present */
  retryAfterSeconds?: number;
  constructor(method: string, path: string, status: number, reason: string, message: string) {
    super('KUBE_API', `${method} ${path}: expected 2xx, got ${status} ${reason}: ${message}`);
    this.status = status;
    this.reason = reason;
  }
}

export interface KubeRequest {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly timeoutMs?: number;
}

export interface KubeClient {
  /** sends one request; resolves with the parsed JSON body, throws KubeApiError on a non-2xx answer */
  request<T = unknown>(req: KubeRequest): Promise<T>;
  /** API calls made so far, by verb */
  readonly calls: Readonly<Record<string, number>>;
  /** the namespace of the current context (or the in-cluster service account's) */
  readonly namespace: string;
  close(): void;
}

export interface KubeConnectOptions {
  /** a kubeconfig file; default: $KUBECONFIG, ~/.kube/config, then the in-cluster service account */
  readonly kubeconfig?: string;
  readonly context?: string;
  /** concurrent requests at most (default 8) */
  readonly maxSockets?: number;
}

// Loads a KubeConfig the way kubectl does (or from the given file and context). client-node is imported here, on
// first use: it costs ~2 s and ~70 MiB to load, which commands that never talk to the API server should not pay.
export async function loadKubeConfig(options: KubeConnectOptions = {}): Promise<KubeConfig> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
  else kc.loadFromDefault();
  if (options.context) kc.setCurrentContext(options.context);
  if (!kc.getCurrentCluster()) throw new Error('kubeconfig: expected a current cluster, got none');
  return kc;
}

function queryString(query: KubeRequest['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

// Creates a client on a KubeConfig; credentials are re-applied per request (tokens rotate).
export function createKubeClient(kc: KubeConfig, options: Pick<KubeConnectOptions, 'maxSockets'> = {}): KubeClient {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig: expected a current cluster, got none');
  const base = new URL(cluster.server);
  const calls: Record<string, number> = {};
  let agent: Agent | undefined;
  const contextNs = kc.getContextObject(kc.getCurrentContext())?.namespace;
  const namespace = contextNs ?? process.env.POD_NAMESPACE ?? 'default';

  // Sends once; the API server's 429 (priority and fairness, storage still initializing) is retried below.
  const send = async <T>(req: KubeRequest): Promise<T> => {
    const method = req.method ?? 'GET';
    const path = `${base.pathname.replace(/\/$/, '')}${req.path}${queryString(req.query)}`;
    const opts: RequestOptions = { method, headers: {} };
    await kc.applyToHTTPSOptions(opts);
    if (!cluster.proxyUrl) {
      // one keep-alive agent with the same TLS material instead of a new one per request
      agent ??= new Agent({
        keepAlive: true,
        maxSockets: options.maxSockets ?? 8,
        ...(opts.ca ? { ca: opts.ca } : {}),
        ...(opts.cert ? { cert: opts.cert } : {}),
        ...(opts.key ? { key: opts.key } : {}),
        ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
        ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
      });
      opts.agent = agent;
    }
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers: Record<string, string | number> = { ...(opts.headers as Record<string, string>), accept: 'application/json' };
    if (payload) {
      headers['content-type'] = req.contentType ?? 'application/json';
      headers['content-length'] = payload.length;
    }
    calls[method] = (calls[method] ?? 0) + 1;
    return new Promise<T>((resolve, reject) => {
      const r = httpsRequest(
        { ...opts, protocol: base.protocol, hostname: base.hostname, port: base.port || 443, path, headers, timeout: req.timeoutMs ?? 60_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown;
            try {
              body = text ? JSON.parse(text) : undefined;
            } catch {
              body = undefined;
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve(body as T);
            const st = (body ?? {}) as { reason?: string; message?: string };
            const err = new KubeApiError(method, req.path, status, st.reason ?? 'Unknown', st.message ?? text.slice(0, 200));
            const retryAfter = Number(res.headers['retry-after']);
            if (Number.isFinite(retryAfter)) err.retryAfterSeconds = retryAfter;
            reject(err);
          });
        },
      );
      r.on('timeout', () => r.destroy(new Error(`${method} ${req.path}: no answer within ${req.timeoutMs ?? 60_000} ms`)));
      r.on('error', reject);
      r.end(payload);
    });
  };
  // A 429 means the request was not processed: any verb may be sent again, after Retry-After (at most 5 times).
  const request = async <T>(req: KubeRequest): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await send<T>(req);
      } catch (err) {
        if (!(err instanceof KubeApiError) || err.status !== 429 || attempt >= 5) throw err;
        const seconds = Math.min(Math.max(err.retryAfterSeconds ?? 1, 0.1), 5);
        await new Promise((resolve) => setTimeout(resolve, seconds * 1000 * (1 + attempt / 2)));
      }
    }
  };
  return {
    request,
    calls,
    namespace,
    close: () => agent?.destroy(),
  };
}

/** Whether an error is a Kubernetes API answer with this status. */
export function isStatus(err: unknown, status: number): boolean {
  return err instanceof KubeApiError && err.status === status;
}
