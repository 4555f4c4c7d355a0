// Minimal HTTPS GET for readiness probes of the e2e processes.
import { request } from 'node:https';

export interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
}

// GETs `url` and resolves with the status code and body; rejects on connection errors or after 5s.
export async function httpsGet(url: string, tls: TlsMaterial = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', ...tls, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`expected a response from ${url} within 5s, got none`)));
    req.on('error', reject);
    req.end();
  });
}
