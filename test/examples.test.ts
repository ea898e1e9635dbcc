// The Pod examples in examples/ are what people copy: each must be accepted
// by the Kubernetes API schema, and must wire the sidecar so it can work.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildConfig, parseInvocation } from '../lib/sidecar/config';
import { loadManifests, type Manifest, schemaErrors, unknownFieldErrors } from './helpers/kubernetes-manifests';

const root = join(__dirname, '..', '..');
const examplesDir = join(root, 'examples');
const files = readdirSync(examplesDir).filter((name) => name.endsWith('.yaml')).sort();
const SIDECAR_IMAGE = /(^|\/)config-reloader(-sidecar)?[:@]/;

type Json = Readonly<Record<string, unknown>>;

function record(value: unknown, what: string): Json {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `${what} is missing or not a mapping`);
  return value as Json;
}

function list(value: unknown): readonly Json[] {
  return Array.isArray(value) ? value.map((item, index) => record(item, `item ${index}`)) : [];
}

function pods(): Manifest[] {
  return files.flatMap((name) => loadManifests(join(examplesDir, name))).filter((manifest) => manifest.kind === 'Pod');
}

test('examples/ holds an nginx example, one for an app that reloads on another signal, and Prometheus reloaded over HTTP', () => {
  assert.ok(files.includes('nginx.yaml'), `examples: ${files.join(', ')}`);
  assert.ok(files.includes('prometheus.yaml'), `examples: ${files.join(', ')}`);
  assert.ok(files.length >= 3, `examples: ${files.join(', ')}`);
});

describe('every example is accepted by the Kubernetes API schema', () => {
  for (const name of files) {
    test(`${name} validates against the schema of each kind`, () => {
      const manifests = loadManifests(join(examplesDir, name));
      assert.ok(manifests.length > 0);
      assert.deepEqual(manifests.flatMap(schemaErrors), []);
    });
  }

  test('no example has a field its schema does not declare', () => {
    const manifests = files.flatMap((name) => loadManifests(join(examplesDir, name)));
    assert.deepEqual(unknownFieldErrors(manifests, root), []);
  });
});

describe('the checks catch what kubectl would reject', () => {
  const pod: Json = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'x' },
    spec: { containers: [{ name: 'app', image: 'nginx' }] },
  };
  const manifest = (body: Json): Manifest => ({ file: 'inline', index: 0, apiVersion: 'v1', kind: 'Pod', name: 'x', body });

  test('a wrong type is a schema error', () => {
    const errors = schemaErrors(manifest({ ...pod, spec: { shareProcessNamespace: 'yes', containers: [] } }));
    assert.match(errors.join('\n'), /shareProcessNamespace must be boolean/);
  });

  test('a field in the wrong place is an unknown field, with its path', () => {
    const misplaced = { ...pod, spec: { containers: [{ name: 'app', image: 'nginx', shareProcessNamespace: true }] } };
    const errors = unknownFieldErrors([manifest(misplaced)], root);
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0] ?? '', /spec\.containers\[0\]\.shareProcessNamespace: .*'"?shareProcessNamespace"?' does not exist in type 'IContainer'/);
  });

  test('a valid Pod passes both checks', () => {
    assert.deepEqual(schemaErrors(manifest(pod)), []);
    assert.deepEqual(unknownFieldErrors([manifest(pod)], root), []);
  });
});

describe('every example Pod wires the sidecar so it can reload the app', () => {
  for (const pod of pods()) {
    const spec = record(pod.body['spec'], 'spec');
    const containers = list(spec['containers']);
    const sidecar = containers.find((container) => SIDECAR_IMAGE.test(String(container['image'])));
    const apps = containers.filter((container) => container !== sidecar);
    const env = new Map(list(sidecar?.['env']).map((variable) => [String(variable['name']), String(variable['value'])]));
    const volumes = new Map(list(spec['volumes']).map((volume) => [String(volume['name']), volume]));

    const config = buildConfig(parseInvocation([], Object.fromEntries(env)).values);
    const signals = config.processName !== undefined;

    test(`${pod.name}: the sidecar's settings are accepted by config-reloader itself`, () => {
      assert.ok(sidecar !== undefined, 'no container runs the config-reloader image');
      assert.ok(config.configDirs.length > 0);
    });

    test(`${pod.name}: the sidecar shares the app's PID namespace only when it signals`, () => {
      // Sharing it lets every container see and signal the others' processes: not for nothing.
      assert.equal(spec['shareProcessNamespace'], signals ? true : undefined);
    });

    test(`${pod.name}: a reload URL is on the Pod's loopback, where only the Pod reaches it`, () => {
      const url = config.reloadUrl?.url;
      if (url !== undefined) assert.ok(['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname), url.href);
    });

    test(`${pod.name}: every CONFIG_DIR is a whole kubelet volume that the app mounts too`, () => {
      const dirs = (env.get('CONFIG_DIR') ?? '').split(',').map((dir) => dir.trim());
      for (const dir of dirs) {
        const mount = list(sidecar?.['volumeMounts']).find((candidate) => candidate['mountPath'] === dir);
        assert.ok(mount !== undefined, `CONFIG_DIR ${dir} is not a mountPath of the sidecar`);
        // The kubelet swaps a volume's ..data link; a subPath mount pins the old files forever.
        assert.equal(mount['subPath'], undefined, `${dir} is a subPath mount, which never sees an update`);
        const volume = volumes.get(String(mount['name']));
        assert.ok(volume !== undefined, `volume ${String(mount['name'])} is not declared`);
        assert.ok(['configMap', 'secret', 'projected'].some((source) => source in volume), `volume ${String(mount['name'])} is not a ConfigMap, Secret or projected volume`);
        const appMounts = apps.flatMap((app) => list(app['volumeMounts'])).filter((candidate) => candidate['name'] === mount['name']);
        assert.ok(appMounts.length > 0, `no app container mounts volume ${String(mount['name'])}`);
        for (const appMount of appMounts) assert.equal(appMount['subPath'], undefined, 'the app mounts the volume with subPath');
      }
    });

    test(`${pod.name}: the sidecar has the privilege its actions need and no more`, () => {
      const context = record(sidecar?.['securityContext'], 'sidecar securityContext');
      const capabilities = record(context['capabilities'], 'sidecar capabilities');
      assert.equal(context['readOnlyRootFilesystem'], true);
      assert.equal(context['allowPrivilegeEscalation'], false);
      assert.deepEqual(capabilities['drop'], ['ALL']);
      if (!signals) {
        // A command or a request needs no capability, and no root.
        assert.equal(capabilities['add'], undefined);
        assert.equal(context['runAsNonRoot'], true);
        return;
      }
      // kill(2) needs the sender's uid to match the target's, or CAP_KILL.
      // Kubernetes gives capabilities to root only (no ambient set for other
      // users), so it is the app's own uid with no capability, or root with
      // KILL alone for an app whose uid differs or is not stated.
      const appUids = apps.map((app) => (app['securityContext'] as Json | undefined)?.['runAsUser']);
      const sameUid = context['runAsUser'] !== undefined && appUids.every((uid) => uid === context['runAsUser']);
      if (sameUid) {
        assert.equal(capabilities['add'], undefined, "a sidecar with the app's uid needs no capability");
      } else {
        assert.equal(context['runAsUser'], 0, `the sidecar runs as uid ${String(context['runAsUser'])}, the app as ${appUids.join(', ')}: use the app's uid, or root with KILL`);
        assert.deepEqual(capabilities['add'], ['KILL'], 'a root sidecar for another uid must add KILL and nothing else');
      }
    });
  }
});
