import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { NO_FACT_GATHERER } from '../engine/facts.js';
import { podSiteOf } from '../workload/podspecs.js';
import { createImageFactsSource } from './facts.js';
import { imageFactGatherer } from './gatherer.js';

// A port nothing listens on: bound, then closed.
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('image facts gatherer', () => {
  it('turns a failed look-up into an error fact carrying the registry error code', async () => {
    const host = `127.0.0.1:${await closedPort()}`;
    const image = `${host}/team/app:1.0`;
    const source = createImageFactsSource({ insecure: [host] });
    try {
      const gatherer = imageFactGatherer(source, { os: 'linux', architecture: 'amd64' }, NO_FACT_GATHERER);
      const pod = podSiteOf({ spec: { containers: [{ name: 'app', image }] } }, '', 'Pod')!;
      const facts = await gatherer.gather({ pod, images: new Map([['imageConfig', new Set([image])]]), deadline: Date.now() + 5000 });
      const fact = facts.image(image);
      expect(fact.status).toBe('error');
      expect(fact.status === 'error' && fact.code).toBe('REGISTRY_UNREACHABLE');
    } finally {
      await source.close();
    }
  });
});
