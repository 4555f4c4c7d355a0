// Connection limits through a real `portcullis serve`: slow-header and slow-body senders, idle sockets and idle
// HTTP/2 sessions are cut off, extra connections beyond --max-connections are closed, and other clients are served.
import type { EventEmitter } from 'node:events';
import { connect as http2Connect } from 'node:http2';
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS, compliantSpec, objectOf, reviewOf } from '../helpers/pods.js';
import { https1, startPortcullis } from '../helpers/server.js';
import type { Portcullis } from '../helpers/server.js';

const BODY = JSON.stringify(reviewOf(objectOf(KINDS[0]!, compliantSpec(), 'good-pod'), { uid: 'limits' }));
// a bound for the test run only: every close is expected seconds earlier
const WAIT_MS = 20_000;

interface Watched {
  readonly socket: Socket;
  /** everything the server sent */
  received(): string;
  /** resolves with true once the server closed the connection, false after WAIT_MS */
  readonly closed: Promise<boolean>;
}

function watch(socket: Socket): Watched {
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
  socket.on('error', () => undefined);
  return { socket, received: () => text, closed: emitted(socket, 'close') };
}

// Resolves with true once the emitter emits the event, false after WAIT_MS.
function emitted(emitter: EventEmitter, event: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), WAIT_MS);
    emitter.once(event, () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

// A TLS connection (ALPN http/1.1) trusting the server's CA, resolved once the handshake is done.
function tls1(srv: Portcullis): Promise<Watched> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = tlsConnect({ host: '127.0.0.1', port: srv.port, ca: srv.caPem!, ALPNProtocols: ['http/1.1'] }, () => resolve(watch(socket)));
    socket.once('error', reject);
  });
}

// Sends `text` one byte every `everyMs` until the socket closes.
function drip(w: Watched, text: string, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (w.socket.destroyed || i >= text.length) return clearInterval(timer);
    w.socket.write(text[i++]!);
  }, everyMs);
  w.socket.once('close', () => clearInterval(timer));
}

const headers = (length: number) => `POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n`;

describe('connection limits (--header-timeout 1 --request-timeout 2 --idle-timeout 1)', () => {
  let srv: Portcullis;
  beforeAll(async () => {
    srv = await startPortcullis({ args: ['--header-timeout', '1', '--request-timeout', '2', '--idle-timeout', '1', '--max-connections', '400'] });
  });
  afterAll(async () => srv?.stop());

  it('cuts off 100 slow-header senders with 408 while other clients are answered', async () => {
    const drippers = await Promise.all(Array.from({ length: 100 }, () => tls1(srv)));
    // headers that would take 10 s at one byte every 50 ms; never completed
    for (const d of drippers) drip(d, `${headers(BODY.length)}X-Padding: ${'a'.repeat(200)}\r\n`, 50);
    const answers: number[] = [];
    const others = (async () => {
      for (let i = 0; i < 20; i++) answers.push((await https1(`${srv.url}/validate`, { ca: srv.caPem!, body: BODY })).status);
    })();
    const closed = await Promise.all(drippers.map((d) => d.closed));
    await others;
    expect(closed.every(Boolean)).toBe(true);
    expect(drippers.map((d) => d.received().split('\r\n')[0])).toEqual(drippers.map(() => 'HTTP/1.1 408 Request Timeout'));
    expect(answers).toEqual(answers.map(() => 200));
  });

  it('cuts off a slow body sender after the request timeout', async () => {
    const d = await tls1(srv);
    d.socket.write(`${headers(BODY.length)}\r\n`);
    drip(d, BODY, 100);
    expect(await d.closed).toBe(true);
    expect(d.received().split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
  });

  it('closes a TCP connection that never starts the TLS handshake', async () => {
    const socket = netConnect({ host: '127.0.0.1', port: srv.port });
    await new Promise((r) => socket.once('connect', r));
    expect(await watch(socket).closed).toBe(true);
  });

  it('closes a TLS connection that never sends a request', async () => {
    const idle = await tls1(srv);
    expect(await idle.closed).toBe(true);
    expect(idle.received()).not.toContain('200 OK');
  });

  it('closes an idle keep-alive connection after its last answer', async () => {
    const conn = await tls1(srv);
    conn.socket.write(`${headers(Buffer.byteLength(BODY))}\r\n${BODY}`);
    expect(await conn.closed).toBe(true);
    expect(conn.received().split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  });

  it('closes an idle HTTP/2 session with GOAWAY', async () => {
    const session = http2Connect(srv.url, { ca: srv.caPem! });
    session.on('error', () => undefined);
    const goaway = emitted(session, 'goaway');
    await new Promise((r) => session.once('connect', r));
    expect(await goaway).toBe(true);
    session.destroy();
  });
});

describe('HTTP/2 request timeout (--request-timeout 2)', () => {
  it('resets a slow-body stream and answers the other streams of the same session', async () => {
    const srv = await startPortcullis({ args: ['--request-timeout', '2'] });
    const session = http2Connect(srv.url, { ca: srv.caPem! });
    session.on('error', () => undefined);
    try {
      const slow = session.request({ ':method': 'POST', ':path': '/validate', 'content-type': 'application/json' });
      slow.on('error', () => undefined);
      slow.on('data', () => undefined);
      const reset = emitted(slow, 'close');
      let i = 0;
      const timer = setInterval(() => (slow.closed ? clearInterval(timer) : slow.write(BODY[i++] ?? ' ')), 100);
      const fast = await new Promise<number>((resolve) => {
        const s = session.request({ ':method': 'POST', ':path': '/validate', 'content-type': 'application/json' });
        s.on('response', (h) => resolve(Number(h[':status'])));
        s.on('data', () => undefined);
        s.end(BODY);
      });
      expect(fast).toBe(200);
      expect(await reset).toBe(true);
      clearInterval(timer);
      expect(slow.rstCode).toBe(8); // NGHTTP2_CANCEL
      expect(session.closed || session.destroyed).toBe(false);
    } finally {
      session.destroy();
      await srv.stop();
    }
  });
});

describe('--max-connections', () => {
  it('closes connections beyond the cap at once, and accepts again when one closes', async () => {
    const srv = await startPortcullis({ args: ['--max-connections', '5'] });
    try {
      const held = await Promise.all(Array.from({ length: 5 }, () => tls1(srv)));
      // the sixth TCP connection is accepted by the kernel and closed by the server before any TLS byte
      const extra = watch(netConnect({ host: '127.0.0.1', port: srv.port }));
      expect(await extra.closed).toBe(true);
      expect(extra.received()).toBe('');
      held[0]!.socket.destroy();
      await held[0]!.closed;
      // the server counts the closed connection once it has seen the close; retry until it has
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = await https1(`${srv.url}/healthz`, { ca: srv.caPem! }).then((r) => r.status, () => 0);
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(200);
      for (const h of held) h.socket.destroy();
    } finally {
      await srv.stop();
    }
  });
});
