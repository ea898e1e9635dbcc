// A throwaway CA and a server certificate it signed, for 127.0.0.1 and
// localhost, made with Debian's openssl for one test: what an app serving
// its reload endpoint over TLS with an in-cluster CA looks like.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Cleanup } from './child-process';

export interface ThrowawayCa {
  /** Where the files are: ca.pem, server.pem, server.key. */
  readonly dir: string;
  readonly caFile: string;
  readonly serverKey: string;
  readonly serverCert: string;
}

export function makeThrowawayCa(cleanup: Cleanup): ThrowawayCa {
  const dir = mkdtempSync(join(tmpdir(), 'throwaway-ca-'));
  cleanup.after(() => rmSync(dir, { recursive: true, force: true }));
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=config-reloader test CA');
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    serverKey: readFileSync(join(dir, 'server.key'), 'utf8'),
    serverCert: readFileSync(join(dir, 'server.pem'), 'utf8'),
  };
}
