// `config-reloader-sidecar/testing`: a replay of how the kubelet updates
// ConfigMap, Secret and projected volumes, for testing reload code against
// the real kernel. Plain `fs`: loading it never loads the native addon, and
// the package's main entry never loads it.
//
// Each export is named here: this list is the public surface, and what the
// modules share among themselves (the step drivers, the fsGroup walk as a
// generator) stays private. Node's ESM loader finds these names in tsc's
// CommonJS output, so `import { AtomicWriter } from
// 'config-reloader-sidecar/testing'` works; test/testing-entry.test.ts checks it.
export {
  AtomicWriter,
  DATA_LINK,
  DATA_TMP_LINK,
  isTimestampDirName,
  kubeletTimestampDirName,
} from './atomic-writer';
export type { AtomicWriterOptions, StagedWrite, WriteOptions, WriteResult } from './atomic-writer';
export {
  configMapPayload,
  DEFAULT_VOLUME_MODE,
  projectedPayload,
  secretPayload,
  validatePayload,
} from './payloads';
export type { FileProjection, KeyToPath, Payload, ProjectedSource, VolumeData, VolumeSourceOptions } from './payloads';
export type { WriterOp, WriterPhase, WriterStep } from './steps';
export { setVolumeOwnership, setVolumeOwnershipSync } from './volume-ownership';
