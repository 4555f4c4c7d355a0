// A hostile "registry" for bad-input tests: a node:http server whose answers the test scripts,
// plus helpers that build consistent manifests/configs to then corrupt.

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { listenLoopback } from './listen.js';

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

export interface HostileServer {
  host: string;
  url: string;
  /** answers requests; replace per test */
  handler: Handler;
  seen: Array<{ method: string; path: string; authorization?: string }>;
  stop(): Promise<void>;
}

export function sha256(bytes: string | Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

// An OCI image (manifest + config) whose digests are right; tests change what is served.
export function makeImage(user: string | undefined, platform = { os: 'linux', architecture: 'amd64' }) {
  return makeImageFrom(JSON.stringify({ ...platform, config: user === undefined ? {} : { User: user }, rootfs: { type: 'layers', diff_ids: [] } }));
}

// An image (manifest without layers) of this config JSON.
export function makeImageFrom(config: string) {
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: Buffer.byteLength(config) },
    layers: [],
  });
  return { config, configDigest: sha256(config), manifest, manifestDigest: sha256(manifest) };
}

export async function startHostileServer(): Promise<HostileServer> {
  const state: HostileServer = {
    host: '',
    url: '',
    handler: (_req, res) => res.writeHead(404).end(),
    seen: [],
    stop: async () => {},
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${state.host}`);
    state.seen.push({ method: req.method ?? 'GET', path: url.pathname + url.search, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    try {
      state.handler(req, res, url);
    } catch {
      res.destroy();
    }
  });
  const listening = await listenLoopback(server);
  state.host = listening.host;
  state.url = `http://${state.host}`;
  state.stop = listening.stop;
  return state;
}

// A TCP server that answers every connection with bytes that are not HTTP.
export async function startGarbageServer(): Promise<{ host: string; stop(): Promise<void> }> {
  const server = createNetServer((s) => {
    s.on('error', () => {});
    s.end('\x00\x01garbage that is not HTTP\r\n\r\n');
  });
  return listenLoopback(server);
}
