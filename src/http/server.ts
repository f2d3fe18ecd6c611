import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.ts';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/** The runtime's HTTP listener: bound before the app exists, so the app can be built knowing the port. */
export interface HttpServer {
  /** The port actually bound (PORT=0 picks a free one). */
  readonly port: number;
  /** Starts answering with the handler; requests that arrived since the socket was bound wait for it. */
  serve(handler: RequestHandler): void;
  /** Takes no new connections, lets requests in flight finish within graceMs, then cuts what is left. */
  close(graceMs: number): Promise<void>;
}

/** The port or address cannot be listened on: said in one line, naming the variable to change. */
export class ListenError extends Error {}

function listenFailure(e: NodeJS.ErrnoException, port: number, host: string): Error {
  if (e.code === 'EADDRINUSE') return new ListenError(`port ${port} is already in use (PORT); choose another`);
  if (e.code === 'EACCES') return new ListenError(`port ${port} needs privileges this process does not have (PORT); choose one above 1023`);
  if (e.code === 'EADDRNOTAVAIL') return new ListenError(`${host} is not an address of this machine (HOST); choose another`);
  return e;
}

export async function listenHttp(port: number, host: string, limits: Config['http']): Promise<HttpServer> {
  let inFlight = 0;
  let idle: (() => void) | undefined;
  let handle: RequestHandler | undefined;
  const waiting: Array<() => void> = [];
  // A client that sends its request slowly, or never, is answered 408 and let go; past maxConnections new
  // connections are dropped at once (the check interval bounds how late a timeout is noticed).
  const { headersTimeoutMs, requestTimeoutMs, maxConnections } = limits;
  const server = createServer({ headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.min(1_000, headersTimeoutMs) }, (req, res) => {
    inFlight++;
    res.on('close', () => {
      if (--inFlight === 0) idle?.();
    });
    if (handle) void handle(req, res);
    else waiting.push(() => void handle!(req, res));
  });
  server.keepAliveTimeout = 5_000;
  server.maxConnections = maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(listenFailure(e, port, host)));
    server.listen(port, host, resolve);
  });
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    serve(handler) {
      handle = handler;
      for (const run of waiting.splice(0)) run();
    },
    close(graceMs) {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) {
          await Promise.race([new Promise<void>((r) => (idle = r)), new Promise((r) => setTimeout(r, graceMs).unref())]);
        }
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}
