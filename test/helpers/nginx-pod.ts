// A whole test Pod in one call: a kubelet volume populated before any
// container starts (as the kubelet does), a shared PID namespace, and nginx
// serving from the volume. The sidecar under test joins with pod.spawn(),
// so it sees nginx exactly as it would with shareProcessNamespace: true.
//
//   const pod = await startNginxPod({ cleanup: t, files: { 'site.conf': { data: servedBodyConf('v1'), mode: 0o644 } } });
//   const sidecar = await pod.spawn(process.execPath, [cli, ...]);
//   await pod.writer.write({ 'site.conf': { data: servedBodyConf('v2'), mode: 0o644 } });
//   await pod.nginx.waitForBody('v2');
//   assert.equal((await pod.nginx.reloads()).length, 1);
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AtomicWriter, type AtomicWriterOptions, type Payload } from '../../lib/testing';
import type { Cleanup } from './child-process';
import { Nginx, type NginxOptions } from './nginx';
import { type NamespacedProcess, PidNamespace, type SpawnInNamespaceOptions } from './pid-namespace';

export interface NginxPodOptions {
  /** The volume's first payload, written before nginx starts. */
  readonly files: Payload;
  /** How the kubelet writes the volume: fsGroup, legacyOrder, hooks. */
  readonly writer?: AtomicWriterOptions;
  readonly nginx?: Pick<NginxOptions, 'include' | 'workers' | 'port' | 'startTimeoutMs'>;
  /** Registers stop() here. */
  readonly cleanup?: Cleanup;
}

export interface NginxPod {
  readonly namespace: PidNamespace;
  /** The kubelet volume directory (mode 0755, like a real one). */
  readonly volumeDir: string;
  readonly writer: AtomicWriter;
  readonly nginx: Nginx;
  /** Starts a process in the Pod's PID namespace: the sidecar. */
  spawn(command: string, args?: readonly string[], options?: SpawnInNamespaceOptions): Promise<NamespacedProcess>;
  /** Kills every process of the Pod and removes its directories. */
  stop(): Promise<void>;
}

export async function startNginxPod(options: NginxPodOptions): Promise<NginxPod> {
  const root = await mkdtemp(join(tmpdir(), 'nginx-pod-'));
  const volumeDir = join(root, 'volume');
  let namespace: PidNamespace | undefined;
  let nginx: Nginx | undefined;
  const stop = async (): Promise<void> => {
    await namespace?.stop();
    await nginx?.stop();
    await rm(root, { recursive: true, force: true });
  };
  options.cleanup?.after(stop);
  try {
    await mkdir(volumeDir);
    await chmod(volumeDir, 0o755);
    const writer = new AtomicWriter(volumeDir, options.writer);
    await writer.write(options.files);
    namespace = await PidNamespace.start();
    nginx = await Nginx.start({ ...options.nginx, namespace, volumeDir });
    const started = { namespace, nginx };
    return {
      ...started,
      volumeDir,
      writer,
      spawn: (command, args = [], spawnOptions) => started.namespace.spawn(command, args, spawnOptions),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
