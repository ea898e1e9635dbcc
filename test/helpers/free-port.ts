import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 right now (bound and released; the kernel does not hand it out again at once). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('the kernel assigned no port');
  return address.port;
}
