// The null webhook: the ceiling for portcullis's stack. Same fastify, same TLS (HTTP/2 with HTTP/1.1 fallback,
// TLS 1.2+), parses the body as JSON and answers `allowed: true` with the request's uid. No logging, no metrics.
//   node bench/null-webhook.ts --port N --tls-cert FILE --tls-key FILE [--host 127.0.0.1]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8444' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
  },
});
if (!values['tls-cert'] || !values['tls-key']) {
  process.stderr.write('null-webhook: expected --tls-cert and --tls-key\n');
  process.exit(2);
}

const app = Fastify({
  http2: true,
  https: { allowHTTP1: true, key: readFileSync(values['tls-key'], 'utf8'), cert: readFileSync(values['tls-cert'], 'utf8'), minVersion: 'TLSv1.2' },
  bodyLimit: 4 * 1024 * 1024,
  logger: false,
});

interface Review {
  apiVersion?: string;
  request?: { uid?: string };
}

app.post('/validate', async (request) => {
  const review = request.body as Review;
  return { apiVersion: review.apiVersion ?? 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request?.uid ?? '', allowed: true } };
});
app.get('/readyz', async () => ({ status: 'ready' }));

const address = await app.listen({ host: values.host, port: Number(values.port) });
process.stdout.write(`null webhook listening on ${address}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(0));
