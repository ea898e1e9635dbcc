// The nginx app container of the container tests, and what its log says
// about signals. At notice level (the official image's level too) nginx logs
// every signal it receives with the sender's pid and what it did:
//   signal 1 (SIGHUP) received from 42, reconfiguring   <- the master
//   signal 1 (SIGHUP) received from 42, ignoring        <- a worker
import { createServer } from 'node:net';
import { type Defer, IMAGES, startApp } from './podman';

export interface NginxSignal {
  readonly signal: string;
  readonly from: number;
  /** What nginx did: "reconfiguring" in the master, "ignoring" in a worker for SIGHUP. */
  readonly action: string;
}

export interface NginxContainer {
  readonly name: string;
  /** The port nginx serves on 127.0.0.1 (host network), or undefined with no network. */
  readonly port: number | undefined;
  log(): Promise<string>;
  signals(): Promise<NginxSignal[]>;
}

const SIGNAL_LINE = /signal \d+ \((SIG\w+)\) received from (\d+), ([a-z ]+)/g;

export function parseNginxSignals(log: string): NginxSignal[] {
  return [...log.matchAll(SIGNAL_LINE)].map((match) => ({
    signal: match[1] ?? '',
    from: Number(match[2]),
    action: (match[3] ?? '').trim(),
  }));
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
  return { ...app, port, signals: async () => parseNginxSignals(await app.log()) };
}
