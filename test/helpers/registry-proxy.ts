// A fault-injecting HTTP proxy in front of a plain-HTTP test registry (node:http). It counts requests,
// tracks concurrency, and applies queued faults: delay, status (429/5xx with headers), reset, hang.

import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLoopback } from './listen.js';

export type Fault =
  | { kind: 'delay'; ms: number }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'reset' }
  | { kind: 'hang' }
  /** the upstream's status and headers at once, then its body one byte every intervalMs */
  | { kind: 'drip'; intervalMs: number };

export interface FaultRule {
  fault: Fault;
  /** applies to requests whose path matches; all when absent */
  match?: RegExp;
  /** how many requests it applies to; Infinity for all */
  times: number;
}

export interface SeenRequest {
  method: string;
  path: string;
  authorization: boolean;
}

export interface FaultProxy {
  /** host:port to put in image references (list it in `insecure`) */
  host: string;
  seen: SeenRequest[];
  /** most requests in flight at once */
  maxActive: number;
  /** queue a fault */
  inject(rule: FaultRule): void;
  /** drop queued faults and counters */
  reset(): void;
  stop(): Promise<void>;
}

// Starts the proxy on 127.0.0.1, forwarding to upstream (http://host:port).
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const rules: FaultRule[] = [];
  const seen: SeenRequest[] = [];
  const state = { active: 0, maxActive: 0 };

  const forward = (req: IncomingMessage, res: ServerResponse, done: () => void) => {
    const up = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        upRes.on('end', done);
        upRes.on('error', done);
      },
    );
    up.on('error', () => {
      res.destroy();
      done();
    });
    req.pipe(up);
  };

  // Forwards, but sends the upstream body one byte at a time.
  const drip = (req: IncomingMessage, res: ServerResponse, intervalMs: number, done: () => void) => {
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (upRes) => {
      const chunks: Buffer[] = [];
      upRes.on('data', (c: Buffer) => chunks.push(c));
      upRes.on('end', () => {
        const body = Buffer.concat(chunks);
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        let i = 0;
        const timer = setInterval(() => {
          if (i >= body.length || res.destroyed) {
            clearInterval(timer);
            res.end();
            done();
            return;
          }
          res.write(body.subarray(i, ++i));
        }, intervalMs);
        res.on('close', () => clearInterval(timer));
      });
    });
    up.on('error', () => {
      res.destroy();
      done();
    });
    req.pipe(up);
  };

  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    seen.push({ method: req.method ?? 'GET', path, authorization: req.headers.authorization !== undefined });
    state.active++;
    state.maxActive = Math.max(state.maxActive, state.active);
    let finished = false;
    const done = () => {
      if (!finished) {
        finished = true;
        state.active--;
      }
    };
    res.on('close', done);
    const i = rules.findIndex((r) => r.times > 0 && (!r.match || r.match.test(path)));
    const rule = i === -1 ? undefined : rules[i];
    if (rule) {
      rule.times--;
      if (rule.times <= 0) rules.splice(i, 1);
    }
    const fault = rule?.fault;
    if (!fault) return forward(req, res, done);
    switch (fault.kind) {
      case 'delay':
        setTimeout(() => forward(req, res, done), fault.ms);
        return;
      case 'status':
        res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.headers ?? {}) });
        res.end(fault.body ?? '{"errors":[{"code":"TOOMANYREQUESTS","message":"injected"}]}');
        return;
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'hang':
        return;
      case 'drip':
        return drip(req, res, fault.intervalMs, done);
    }
  });
  const listening = await listenLoopback(server);
  return {
    host: listening.host,
    seen,
    get maxActive() {
      return state.maxActive;
    },
    inject: (rule) => rules.push({ ...rule }),
    reset: () => {
      rules.length = 0;
      seen.length = 0;
      state.maxActive = state.active;
    },
    stop: listening.stop,
  };
}
