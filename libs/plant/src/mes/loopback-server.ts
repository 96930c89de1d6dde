import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * The HTTP lifecycle every MES stand-in shares: a server on 127.0.0.1, delayed answers for the `slow`
 * fault, and a `close()` that finishes even while requests hang (the `timeout` fault never answers).
 */
export interface LoopbackServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /**
   * Runs `fn` after `ms` unless the server is closed first (the `slow` fault). Cancelled timers keep
   * neither the process nor a test waiting; a request that was waiting simply never gets its answer.
   */
  later(fn: () => void, ms: number): void;
  /** Stops listening and drops every connection, answered or not; finishes also when already closed. */
  close(): Promise<void>;
}

/**
 * Serves `handler` on 127.0.0.1 at `port` (0: any free port) and resolves once it listens. The handler
 * runs only after this promise has resolved, so it may use the returned server (its `url`, `later`).
 * Exceptions in the handler are the caller's to answer: each protocol reports errors in its own shape.
 */
export async function serveOnLoopback(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  port = 0,
): Promise<LoopbackServer> {
  // server.close() only stops accepting; hanging and keep-alive connections would keep it open for good.
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer(handler);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: bound } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${bound}`,
    later(fn, ms) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        fn();
      }, ms);
      timers.add(timer);
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      // Resolves also on ERR_SERVER_NOT_RUNNING: tests close in the test and again in their teardown.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
