// The optional HTTP endpoint: /healthz (the process is serving), /readyz
// (every configured directory is watched) and /metrics (Prometheus text).
// Plain node:http, because three read-only routes need no framework.
//
// Every connection holds a descriptor, and the sidecar needs descriptors for
// its real work (inotify, a pidfd and a status file per target), so
// connections are capped: a flood of idle ones, or of slow ones, must not
// starve a reload nor shut out the kubelet's probe. Past the cap the oldest
// connection with no request in progress makes room for the new one; idle
// connections are closed after a while, and so are requests that trickle in.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { errorCode } from '..';
import { errorMessage } from './errors';
import type { ListenAddress } from './config';

export interface HttpEndpoints {
  /** True once every watch is established; false before and while shutting down. */
  isReady(): boolean;
  renderMetrics(): Promise<string>;
  readonly metricsContentType: string;
}

export interface HttpEndpoint {
  /** Where the server really listens, e.g. "127.0.0.1:9533" or "[::]:9533". */
  readonly address: string;
  /** Stops accepting, drops idle keep-alive connections, and resolves once closed. */
  close(): Promise<void>;
}

/** Why the endpoint could not listen, with the address in words and whether the value itself is at fault. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(
    message: string,
    readonly code: string,
    /** True when a different METRICS_ADDR would fix it (not local, privileged, unknown host); false for a busy port. */
    readonly badValue: boolean,
  ) {
    super(message);
  }
}

function formatListenAddress(address: ListenAddress): string {
  return `${address.host === undefined ? '' : address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}

/** Connections served at once; a scraper and the kubelet's probes need a handful. */
export const MAX_CONNECTIONS = 32;
/** A connection that sends or receives nothing for this long is closed. */
export const IDLE_TIMEOUT_MS = 10_000;

export async function startHttpEndpoint(address: ListenAddress, endpoints: HttpEndpoints): Promise<HttpEndpoint> {
  // Node checks headersTimeout and requestTimeout only this often (30 s by default).
  const server = createServer({ connectionsCheckingInterval: 1000 }, (request, response) => {
    void route(request, response, endpoints);
  });
  // A slow or idle scraper must not hold shutdown up, nor a descriptor for long.
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 5000;
  server.requestTimeout = 10_000;
  // headersTimeout applies once a request has begun; a connection that never
  // sends a byte is closed by this inactivity timeout alone.
  server.timeout = IDLE_TIMEOUT_MS;
  capConnections(server, MAX_CONNECTIONS);
  await listen(server, address);
  return {
    address: describeBound(server.address()),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Keeps at most `max` connections open. A new one past the cap closes the
 * oldest connection that has no request in progress (an idle keep-alive, or
 * one that never sent anything); when every one is busy, the newcomer is
 * closed instead.
 */
function capConnections(server: Server, max: number): void {
  // A Set iterates in insertion order: oldest first.
  const open = new Set<Socket>();
  const busy = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    if (open.size >= max) {
      const idle = [...open].find((candidate) => !busy.has(candidate));
      if (idle === undefined) {
        socket.destroy();
        return;
      }
      idle.destroy();
      open.delete(idle);
    }
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      busy.delete(socket);
    });
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    busy.add(socket);
    response.once('close', () => busy.delete(socket));
  });
}

function listen(server: Server, address: ListenAddress): Promise<void> {
  const shown = formatListenAddress(address);
  return new Promise<void>((resolve, reject) => {
    const onError = (error: unknown): void => {
      server.off('listening', onListening);
      reject(explainListenError(error, shown));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(address.host === undefined ? { port: address.port } : { host: address.host, port: address.port });
  });
}

/** Turns the listen error into one sentence naming the address and the fix. */
function explainListenError(error: unknown, shown: string): ListenError {
  const code = errorCode(error) ?? 'UNKNOWN';
  const prefix = `cannot listen on METRICS_ADDR ${shown}`;
  switch (code) {
    case 'EADDRINUSE':
      return new ListenError(`${prefix}: the port is already in use by another process (EADDRINUSE); stop it or choose another port`, code, false);
    case 'EADDRNOTAVAIL':
      return new ListenError(`${prefix}: the host is not an address of this machine (EADDRNOTAVAIL); use :PORT to listen on every address`, code, true);
    case 'EACCES':
      return new ListenError(`${prefix}: ports below 1024 need root or CAP_NET_BIND_SERVICE (EACCES); choose a port from 1024 up, like :9533`, code, true);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ListenError(`${prefix}: the host name does not resolve (${code}); use an IP address or :PORT`, code, true);
    default:
      return new ListenError(`${prefix}: ${errorMessage(error)}`, code, false);
  }
}

function describeBound(bound: string | AddressInfo | null): string {
  if (bound === null || typeof bound === 'string') return String(bound);
  return bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`;
}

async function route(request: IncomingMessage, response: ServerResponse, endpoints: HttpEndpoints): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') {
    reply(response, 404, 'not found: the endpoints are /healthz, /readyz and /metrics\n');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    reply(response, 405, 'method not allowed: use GET\n');
    return;
  }
  if (path === '/healthz') {
    reply(response, 200, 'ok\n');
  } else if (path === '/readyz') {
    if (endpoints.isReady()) reply(response, 200, 'ready\n');
    else reply(response, 503, 'not ready: the configured directories are not all watched yet (or shutting down)\n');
  } else {
    try {
      reply(response, 200, await endpoints.renderMetrics(), endpoints.metricsContentType);
    } catch (error) {
      reply(response, 500, `metrics failed: ${errorMessage(error)}\n`);
    }
  }
}

function reply(response: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
