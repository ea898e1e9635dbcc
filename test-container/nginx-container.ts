// The nginx app container of the container tests. Its image logs at notice
// level (as the official image does), so its log names every signal, the
// sender and what nginx did; test/helpers/nginx-log.ts parses that.
import { createServer } from 'node:net';
import { nginxSignals, parseNginxLog, type NginxSignal } from '../test/helpers/nginx-log';
import { type Defer, IMAGES, startApp } from './podman';

export interface NginxContainer {
  readonly name: string;
  /** The port nginx serves on 127.0.0.1 (host network), or undefined with no network. */
  readonly port: number | undefined;
  log(): Promise<string>;
  /** The SIGHUPs nginx logged receiving, in the master or a worker. */
  sighups(): Promise<NginxSignal[]>;
}

/** A free TCP port on 127.0.0.1, for a server in the host network namespace. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port assigned');
  return address.port;
}

/**
 * Starts nginx with `configDir` as /etc/nginx/conf.d and waits until its
 * workers run. With `port`, the container uses the host network so the test
 * can fetch from it.
 */
export async function startNginx(defer: Defer, configDir: string, port?: number): Promise<NginxContainer> {
  const app = await startApp(defer, {
    image: IMAGES.nginx,
    role: 'nginx',
    volume: configDir,
    mountPath: '/etc/nginx/conf.d',
    hostNetwork: port !== undefined,
    ready: /start worker process/,
  });
  const sighups = async (): Promise<NginxSignal[]> =>
    nginxSignals(parseNginxLog(await app.log())).filter((signal) => signal.name === 'SIGHUP');
  return { ...app, port, sighups };
}
