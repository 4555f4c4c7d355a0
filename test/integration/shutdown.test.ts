// Shutdown of a real `portcullis serve`: it exits within --shutdown-grace while registry look-ups hang, and it
// drains keep-alive pools (HTTP/1.1 Connection: close, HTTP/2 GOAWAY) without resetting requests on open connections.
import { connect as http2Connect } from 'node:http2';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { KINDS, compliantSpec, objectOf, reviewOf, specWith } from '../helpers/pods.js';
import { https1, startPortcullis } from '../helpers/server.js';
import type { ExitStatus, Portcullis } from '../helpers/server.js';
import { listenLoopback } from '../helpers/listen.js';

const BODY = JSON.stringify(reviewOf(objectOf(KINDS[0]!, compliantSpec(), 'good-pod'), { uid: 'drain' }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Resolves with the exit status, or 'still running' after ms.
function exitWithin(srv: Portcullis, ms: number): Promise<ExitStatus | 'still running'> {
  return Promise.race([srv.exited, sleep(ms).then(() => 'still running' as const)]);
}

async function shuttingDown(srv: Portcullis): Promise<void> {
  const from = srv.logs().length;
  srv.proc.kill('SIGTERM');
  await srv.waitForLog((l) => String(l.msg).startsWith('shutting down'), { from });
}

describe('shutdown during hanging registry look-ups', () => {
  it('exits 0 within --shutdown-grace while look-ups wait on a registry that accepts and never answers', async () => {
    const held = new Set<Socket>();
    const hanging = await listenLoopback(createServer((s) => void held.add(s.on('error', () => undefined))));
    const srv = await startPortcullis({
      args: ['--shutdown-grace', '2'],
      config: `apiVersion: portcullis.dev/v1alpha1
kind: PortcullisConfig
registry: { enabled: true, insecure: ["${hanging.host}"], timeout: 60s }
policies:
  require-non-root-user: { action: deny, onError: deny }
`,
    });
    try {
      // pods naming no user: each review waits for its image's config from the hanging registry
      const answers = Array.from({ length: 8 }, (_, i) => {
        const pod = objectOf(KINDS[0]!, specWith((s) => {
          delete s.securityContext;
          s.containers[0].image = `${hanging.host}/team/app-${i}:1.0`;
        }), `pod-${i}`);
        return https1(`${srv.url}/validate?timeout=30s`, { ca: srv.caPem!, body: JSON.stringify(reviewOf(pod, { uid: `u${i}` })) }).catch((err: Error) => err);
      });
      for (let i = 0; i < 100 && held.size < 8; i++) await sleep(50);
      expect(held.size).toBeGreaterThanOrEqual(1);
      await shuttingDown(srv);
      // look-ups would hang for 30 s; the grace ends after 2
      expect(await exitWithin(srv, 10_000)).toEqual({ code: 0, signal: null });
      expect(srv.logs().map((l) => String(l.msg))).toContain('grace period over; closing remaining connections');
      await Promise.all(answers);
    } finally {
      await srv.stop();
      for (const s of held) s.destroy();
      await hanging.stop();
    }
  });
});

// A raw TLS keep-alive connection: one request at a time, answers parsed by Content-Length.
interface Conn {
  send(): Promise<{ status: number; connection: string | undefined }>;
  readonly socket: TLSSocket;
}

function keepAliveConn(srv: Portcullis): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port: srv.port, ca: srv.caPem!, ALPNProtocols: ['http/1.1'] }, () => {
      let buffered = '';
      let waiting: ((r: { status: number; connection: string | undefined }) => void) | undefined;
      let failed: ((e: Error) => void) | undefined;
      socket.on('data', (c: Buffer) => {
        buffered += c.toString('latin1');
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffered.slice(0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        waiting?.({ status: Number(head.split(' ')[1]), connection: /\r\nconnection: ([^\r]+)/i.exec(head)?.[1]?.toLowerCase() });
      });
      socket.on('error', (e) => failed?.(e));
      socket.on('close', () => failed?.(new Error('connection closed before the answer')));
      resolve({
        socket,
        send: () =>
          new Promise((res, rej) => {
            waiting = res;
            failed = rej;
            socket.write(`POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`);
          }),
      });
    });
    socket.once('error', reject);
  });
}

describe('draining keep-alive clients', () => {
  it('answers a keep-alive pool through --shutdown-delay with Connection: close, and never resets a request', async () => {
    const srv = await startPortcullis({ args: ['--shutdown-delay', '4', '--shutdown-grace', '10'] });
    // the way kube-apiserver calls webhooks: a pool of HTTP/1.1 keep-alive connections, one request at a time each
    const pool = new Agent({ connections: 8, pipelining: 1, keepAliveTimeout: 60_000, connect: { ca: srv.caPem!, allowH2: false } });
    try {
      const post = async () => {
        const res = await request(`${srv.url}/validate`, { method: 'POST', body: BODY, headers: { 'content-type': 'application/json' }, dispatcher: pool });
        await res.body.text();
        return { status: res.statusCode, connection: String(res.headers.connection ?? '') };
      };
      const before = await Promise.all(Array.from({ length: 8 }, post));
      expect(before.map((r) => r.connection)).toEqual(before.map(() => 'keep-alive'));
      await shuttingDown(srv);
      // 8 workers for 1.5 s, well inside the 4 s delay
      const during: Array<{ status: number; connection: string } | Error> = [];
      const until = Date.now() + 1500;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (Date.now() < until) during.push(await post().catch((err: Error) => err));
      }));
      expect(during.filter((r) => r instanceof Error)).toEqual([]);
      expect(during.length).toBeGreaterThan(8);
      expect(new Set(during.map((r) => (r as { status: number }).status))).toEqual(new Set([200]));
      expect(new Set(during.map((r) => (r as { connection: string }).connection))).toEqual(new Set(['close']));
    } finally {
      await pool.close();
      await srv.stop();
    }
  });

  it('after the delay refuses new connections, answers requests on open ones, and exits once they have closed', async () => {
    const srv = await startPortcullis({ args: ['--shutdown-delay', '1', '--shutdown-grace', '30'] });
    try {
      const conns = await Promise.all(Array.from({ length: 4 }, () => keepAliveConn(srv)));
      for (const c of conns) expect(await c.send()).toEqual({ status: 200, connection: 'keep-alive' });
      await shuttingDown(srv);
      // the delay is over once a new connection is refused
      let refused = false;
      for (let i = 0; i < 100 && !refused; i++) {
        refused = await https1(`${srv.url}/healthz`, { ca: srv.caPem! }).then(() => false, (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
        if (!refused) await sleep(100);
      }
      expect(refused).toBe(true);
      // requests on the connections kept open all along are answered, each closing its connection
      for (const c of conns) expect(await c.send()).toEqual({ status: 200, connection: 'close' });
      expect(await exitWithin(srv, 10_000)).toEqual({ code: 0, signal: null });
      const messages = srv.logs().map((l) => String(l.msg));
      expect(messages).toContain('stopped');
      expect(messages).not.toContain('grace period over; closing remaining connections');
    } finally {
      await srv.stop();
    }
  });

  it('sends GOAWAY to an open HTTP/2 session at SIGTERM and finishes the stream already open', async () => {
    const srv = await startPortcullis({ args: ['--shutdown-delay', '2', '--shutdown-grace', '10'] });
    const session = http2Connect(srv.url, { ca: srv.caPem! });
    session.on('error', () => undefined);
    try {
      const goaway = new Promise<boolean>((resolve) => session.once('goaway', () => resolve(true)));
      const stream = session.request({ ':method': 'POST', ':path': '/validate', 'content-type': 'application/json' });
      let status = 0;
      stream.on('response', (h) => (status = Number(h[':status'])));
      const body: Buffer[] = [];
      stream.on('data', (c: Buffer) => body.push(c));
      const ended = new Promise((r) => stream.on('end', r));
      // the stream is open (headers and half the body sent) when SIGTERM arrives
      stream.write(BODY.slice(0, 100));
      await sleep(300);
      await shuttingDown(srv);
      expect(await Promise.race([goaway, sleep(10_000).then(() => false)])).toBe(true);
      stream.end(BODY.slice(100));
      await ended;
      expect(status).toBe(200);
      expect(JSON.parse(Buffer.concat(body).toString()).response.uid).toBe('drain');
    } finally {
      session.destroy();
      await srv.stop();
    }
  });
});
