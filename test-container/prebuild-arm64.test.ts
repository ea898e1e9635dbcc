// `npm run prebuild:arm64` cross-builds the addon for linux-arm64 (glibc).
// test/prebuild-arm64.test.ts runs the artefact under qemu-user; this proves
// what the file itself says: the ELF header says AArch64 shared object,
// node-gyp-build on a linux-arm64 glibc machine would pick that file, and
// the package ships it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, openSync, readdirSync, readSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test, after } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from './podman';

const run = promisify(execFile);

// The ELF header fields that identify a target (see elf(5)).
const EM_AARCH64 = 183;
const ET_DYN = 3;

interface ElfIdentity {
  readonly magic: boolean;
  readonly class64: boolean;
  readonly littleEndian: boolean;
  readonly type: number;
  readonly machine: number;
}

function readElfIdentity(file: string): ElfIdentity {
  const header = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  return {
    magic: header.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])),
    class64: header[4] === 2,
    littleEndian: header[5] === 1,
    type: header.readUInt16LE(16),
    machine: header.readUInt16LE(18),
  };
}

interface Tags {
  readonly file: string;
}

interface NodeGypBuild {
  parseTuple(name: string): unknown;
  matchTuple(platform: string, arch: string): (tuple: unknown) => boolean;
  parseTags(file: string): Tags | undefined;
  matchTags(runtime: string, abi: string): (tags: Tags | undefined) => boolean;
}

describe('the linux-arm64 prebuild', () => {
  let out = '';
  let files: string[] = [];

  before(async () => {
    out = mkdtempSync(join(tmpdir(), 'prebuild-arm64-'));
    await run('bash', [join(REPO_ROOT, 'scripts', 'prebuild-arm64.sh')], {
      cwd: REPO_ROOT,
      env: { ...process.env, PREBUILD_OUT: out },
    });
    files = readdirSync(join(out, 'prebuilds', 'linux-arm64'));
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  test('is one 64-bit little-endian AArch64 shared object', () => {
    assert.equal(files.length, 1, files.join(', '));
    const elf = readElfIdentity(join(out, 'prebuilds', 'linux-arm64', files[0] ?? ''));
    assert.deepEqual(elf, { magic: true, class64: true, littleEndian: true, type: ET_DYN, machine: EM_AARCH64 });
  });

  test('is the file node-gyp-build picks on linux-arm64 with glibc', () => {
    const load = require('node-gyp-build') as NodeGypBuild;
    assert.ok(load.matchTuple('linux', 'arm64')(load.parseTuple('linux-arm64')));
    const tags = load.parseTags(files[0] ?? '');
    assert.ok(tags !== undefined, `${files[0]} is not a .node file name node-gyp-build understands`);
    // Any Node ABI: the addon is Node-API, so one build serves every Node version.
    assert.ok(load.matchTags('node', '115')(tags));
    assert.match(files[0] ?? '', /\.glibc\.node$/);
  });

  test('ships in the npm package', async () => {
    // A package of just package.json and the prebuild: `files` decides what npm packs.
    const pkg = mkdtempSync(join(tmpdir(), 'prebuild-pack-'));
    try {
      copyFileSync(join(REPO_ROOT, 'package.json'), join(pkg, 'package.json'));
      cpSync(join(out, 'prebuilds'), join(pkg, 'prebuilds'), { recursive: true });
      const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: pkg });
      const [packed] = JSON.parse(stdout) as { files: { path: string }[] }[];
      const paths = (packed?.files ?? []).map((entry) => entry.path);
      assert.ok(paths.includes(`prebuilds/linux-arm64/${files[0] ?? ''}`), paths.join('\n'));
    } finally {
      rmSync(pkg, { recursive: true, force: true });
    }
  });
});
