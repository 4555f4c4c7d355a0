// A small HTTP/2 client for the scenarios that send individual reviews (image paths): one or more sessions to the
// server, like kube-apiserver's webhook client, and the latency of each request in microseconds.
import { connect, constants, type ClientHttp2Session } from 'node:http2';

export interface Answer {
  status: number;
  us: number;
  body: string;
}

export interface H2Client {
  post(path: string, body: string): Promise<Answer>;
  close(): void;
}

export function h2Client(base: string, ca: string, sessions = 1): H2Client {
  const pool: ClientHttp2Session[] = Array.from({ length: sessions }, () => {
    const s = connect(base, { ca });
    s.on('error', () => undefined);
    return s;
  });
  let next = 0;
  return {
    post(path, body) {
      const session = pool[next++ % pool.length] as ClientHttp2Session;
      return new Promise((resolveAnswer, reject) => {
        const started = process.hrtime.bigint();
        const req = session.request({
          [constants.HTTP2_HEADER_METHOD]: 'POST',
          [constants.HTTP2_HEADER_PATH]: path,
          'content-type': 'application/json',
          accept: 'application/json',
        });
        req.setTimeout(30_000, () => req.close(constants.NGHTTP2_CANCEL));
        let status = 0;
        const chunks: Buffer[] = [];
        req.on('response', (headers) => {
          status = Number(headers[constants.HTTP2_HEADER_STATUS] ?? 0);
        });
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => resolveAnswer({ status, us: Number(process.hrtime.bigint() - started) / 1000, body: Buffer.concat(chunks).toString('utf8') }));
        req.on('error', reject);
        req.end(body);
      });
    },
    close() {
      for (const s of pool) s.close();
    },
  };
}

// Percentile of unsorted samples (nearest rank).
export function pct(samples: readonly number[], p: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

// The median of unsorted samples (the lower one of an even count).
export function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted.length ? (sorted[Math.floor((sorted.length - 1) / 2)] as number) : 0;
}

export function mean(samples: readonly number[]): number {
  return samples.length ? samples.reduce((a, b) => a + b, 0) / samples.length : 0;
}

// Whether an AdmissionReview answer allowed the request.
export function allowed(answer: Answer): boolean {
  try {
    return (JSON.parse(answer.body) as { response?: { allowed?: boolean } }).response?.allowed === true;
  } catch {
    return false;
  }
}
