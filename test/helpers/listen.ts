// Test servers on loopback: listen on a free 127.0.0.1 port, and stop without waiting for keep-alive clients.
import type { Server, Socket } from 'node:net';

export interface Listening {
  /** 127.0.0.1:<port> */
  readonly host: string;
  readonly port: number;
  /** destroys every open connection, then closes the server */
  stop(): Promise<void>;
}

// Listens on a free 127.0.0.1 port, tracking connections so stop() can end them.
export async function listenLoopback(server: Server): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
