// buildah (Debian, vfs, chroot isolation, its own --root/--runroot) builds images FROM scratch and FROM an
// image in Berth, and pushes them to a real Berth.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBerth, type RunningBerth } from '../helpers/berth.js';
import { containerTools, type ContainerTools } from '../helpers/containers.js';
import { sha256, tarEntries, tempDir } from '../helpers/images.js';
import { needTools } from '../helpers/tools.js';

interface RawManifest {
  mediaType?: string;
  config: { digest: string };
  layers: { digest: string }[];
}

interface ImageConfig {
  config: { Cmd?: string[]; Labels?: Record<string, string> };
  rootfs: { diff_ids: string[] };
}

describe('buildah against Berth', () => {
  let berth: RunningBerth;
  let tools: ContainerTools;
  let work: string;

  before(async () => {
    berth = await startBerth();
    tools = containerTools();
    tools.login(berth.host, berth.admin);
    for (const p of ['e2e', 'team']) await berth.createProject(p);
    work = tempDir('buildah');
  });
  after(async () => {
    await berth?.close();
    tools?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const image = (ref: string) => `${berth.host}/${ref}`;
  const inspectRaw = async (ref: string) => {
    const { stdout } = await tools.skopeo([
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${image(ref)}`,
    ]);
    return { digest: sha256(stdout), body: JSON.parse(stdout) as RawManifest };
  };
  const inspectConfig = async (ref: string) => {
    const { stdout } = await tools.skopeo([
      'inspect',
      '--config',
      '--tls-verify=false',
      `docker://${image(ref)}`,
    ]);
    return JSON.parse(stdout) as ImageConfig;
  };
  /** Pulls `ref` into a dir: copy and returns each layer's files, after checking every blob's digest. */
  const layerFiles = async (ref: string, manifest: RawManifest) => {
    const dirBack = join(work, `dir-${ref.replace(/\W/g, '-')}`);
    await tools.skopeo(['copy', '--src-tls-verify=false', `docker://${image(ref)}`, `dir:${dirBack}`]);
    return manifest.layers.map((layer) => {
      const bytes = readFileSync(join(dirBack, layer.digest.slice('sha256:'.length)));
      assert.equal(sha256(bytes), layer.digest);
      return new Map(
        tarEntries(bytes)
          .filter((e) => e.type === '0')
          .map((e) => [e.path.replace(/^\.?\//, ''), e.content.toString('utf8')]),
      );
    });
  };
  const commitAndPush = async (container: string, name: string, ref: string) => {
    await tools.buildah(['commit', '--signature-policy', tools.policy, container, name]);
    await tools.buildah([
      'push',
      '--signature-policy',
      tools.policy,
      '--tls-verify=false',
      name,
      `docker://${image(ref)}`,
    ]);
  };

  it('builds an image FROM scratch, pushes it, and it pulls back with its file and config', async (t) => {
    if (!needTools(t, 'buildah', 'skopeo')) return;
    const file = join(work, 'hello.txt');
    writeFileSync(file, 'hello from buildah\n');
    const { stdout: container } = await tools.buildah(['from', 'scratch']);
    await tools.buildah(['copy', container.trim(), file, '/hello.txt']);
    await tools.buildah([
      'config',
      '--cmd',
      '["/hello.txt"]',
      '--label',
      'org.example.built-by=berth-e2e',
      container.trim(),
    ]);
    await commitAndPush(container.trim(), 'berth-e2e-scratch', 'e2e/buildah-scratch:b1');

    const pushed = await inspectRaw('e2e/buildah-scratch:b1');
    assert.equal(
      pushed.body.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
      'application/vnd.oci.image.manifest.v1+json',
    );
    assert.equal(pushed.body.layers.length, 1);
    const config = await inspectConfig('e2e/buildah-scratch:b1');
    assert.deepEqual(config.config.Cmd, ['/hello.txt']);
    assert.equal(config.config.Labels?.['org.example.built-by'], 'berth-e2e');
    const [layer] = await layerFiles('e2e/buildah-scratch:b1', pushed.body);
    assert.equal(layer?.get('hello.txt'), 'hello from buildah\n');

    // buildah itself pulls it back after its local copy is gone.
    await tools.buildah(['rmi', '--all', '--force']);
    await tools.buildah([
      'pull',
      '--signature-policy',
      tools.policy,
      '--tls-verify=false',
      image('e2e/buildah-scratch:b1'),
    ]);
    const { stdout: digest } = await tools.buildah([
      'images',
      '--digests',
      '--format',
      '{{.Digest}}',
      image('e2e/buildah-scratch:b1'),
    ]);
    assert.equal(digest.trim(), pushed.digest);
  });

  it('builds FROM an image in Berth and pushes only the new layer on top', async (t) => {
    if (!needTools(t, 'buildah', 'skopeo')) return;
    const base = join(work, 'base.txt');
    writeFileSync(base, 'base layer\n');
    const { stdout: first } = await tools.buildah(['from', 'scratch']);
    await tools.buildah(['copy', first.trim(), base, '/base.txt']);
    await commitAndPush(first.trim(), 'berth-e2e-base', 'e2e/buildah-base:1');
    const baseManifest = await inspectRaw('e2e/buildah-base:1');

    const { stdout: second } = await tools.buildah([
      'from',
      '--signature-policy',
      tools.policy,
      '--tls-verify=false',
      '--pull-always',
      `docker://${image('e2e/buildah-base:1')}`,
    ]);
    const top = join(work, 'top.txt');
    writeFileSync(top, 'top layer\n');
    await tools.buildah(['copy', second.trim(), top, '/top.txt']);
    await commitAndPush(second.trim(), 'berth-e2e-derived', 'team/derived/app:2');

    const derived = await inspectRaw('team/derived/app:2');
    assert.equal(derived.body.layers.length, 2);
    assert.equal(derived.body.layers[0]?.digest, baseManifest.body.layers[0]?.digest);
    const [lower, upper] = await layerFiles('team/derived/app:2', derived.body);
    assert.equal(lower?.get('base.txt'), 'base layer\n');
    assert.equal(upper?.get('top.txt'), 'top layer\n');
  });
});
