// A real HTTP(S) server standing in for an app's reload endpoint: it records
// every request (method, path, headers, when) and answers with the status
// the test chooses, so a test can prove what the URL action sent and how it
// took each answer. Listens on 127.0.0.1 only.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

import type { Cleanup } from './child-process';
import { waitFor } from './wait-for';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  /** CLOCK_MONOTONIC nanoseconds, comparable with process.hrtime.bigint() in the test. */
  readonly t: bigint;
}

export interface ReloadTargetOptions {
  /** Listen on this port (default: any free one). */
  readonly port?: number;
  /** Serve HTTPS with this key and certificate (PEM). */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** The status for each request (default 200), and an optional body. */
  readonly answer?: (request: RecordedRequest, index: number) => { readonly status: number; readonly body?: string };
}

export interface ReloadTarget {
  readonly port: number;
  /** http(s)://127.0.0.1:PORT */
  readonly origin: string;
  readonly requests: readonly RecordedRequest[];
  /** Requests other than HEAD: what a reload sends. */
  reloads(): RecordedRequest[];
  waitForReloads(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReloadTarget(cleanup: Cleanup, options: ReloadTargetOptions = {}): Promise<ReloadTarget> {
  const requests: RecordedRequest[] = [];
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const recorded: RecordedRequest = {
      method: request.method ?? '', path: request.url ?? '', headers: request.headers, t: process.hrtime.bigint(),
    };
    requests.push(recorded);
    const { status, body = '' } = options.answer?.(recorded, requests.length - 1) ?? { status: 200 };
    request.resume();
    request.on('end', () => {
      response.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
      response.end(body);
    });
  };
  const server: Server = options.tls === undefined ? createHttpServer(handle) : createHttpsServer(options.tls, handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const close = (): Promise<void> => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  cleanup.after(close);
  const reloads = (): RecordedRequest[] => requests.filter((request) => request.method !== 'HEAD');
  return {
    port,
    origin: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    requests,
    reloads,
    waitForReloads: async (count) => {
      await waitFor(() => `${count} reload request(s) (got ${reloads().length})`, () => reloads().length >= count);
    },
    close,
  };
}
