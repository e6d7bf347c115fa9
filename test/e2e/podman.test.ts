// podman (Debian, as root on vfs with its own --root/--runroot) pulls from and pushes to a real Berth.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBerth, type RunningBerth } from '../helpers/berth.js';
import { containerTools, type ContainerTools } from '../helpers/containers.js';
import { OciLayout, sha256, tarEntries, tempDir, type BuiltImage } from '../helpers/images.js';
import { needTools } from '../helpers/tools.js';

interface RawManifest {
  mediaType?: string;
  config: { mediaType: string; digest: string };
  layers: { mediaType: string; digest: string }[];
}

describe('podman against Berth', () => {
  let berth: RunningBerth;
  let tools: ContainerTools;
  let work: string;

  before(async () => {
    berth = await startBerth();
    tools = containerTools();
    tools.login(berth.host, berth.admin);
    for (const p of ['e2e']) await berth.createProject(p);
    work = tempDir('podman');
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
  const diffIds = async (ref: string) => {
    const { stdout } = await tools.skopeo([
      'inspect',
      '--config',
      '--tls-verify=false',
      `docker://${image(ref)}`,
    ]);
    return (JSON.parse(stdout) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
  };
  /** Builds a two-layer image by hand and pushes it with skopeo. */
  const pushWithSkopeo = async (ref: string): Promise<BuiltImage> => {
    const layout = new OciLayout(join(work, ref.replace(/\W/g, '-')));
    const built = layout.addImage({
      tag: 'src',
      layers: [[{ path: 'etc/os-release', content: 'ID=berth-e2e\n' }], [{ path: 'opt/app/blob.bin' }]],
      cmd: ['/opt/app/run'],
    });
    await tools.skopeo(['copy', '--dest-tls-verify=false', layout.ref('src'), `docker://${image(ref)}`]);
    return built;
  };

  it('pulls an image skopeo pushed, and pushes it under a new name', async (t) => {
    if (!needTools(t, 'podman', 'skopeo')) return;
    const built = await pushWithSkopeo('e2e/from-skopeo:1');

    await tools.podman([
      'pull',
      '--signature-policy',
      tools.policy,
      '--tls-verify=false',
      image('e2e/from-skopeo:1'),
    ]);
    const { stdout: id } = await tools.podman([
      'image',
      'inspect',
      '--format',
      '{{.Id}}',
      image('e2e/from-skopeo:1'),
    ]);
    assert.equal(`sha256:${id.trim()}`, built.config.digest, 'podman must store the config Berth served');

    await tools.podman(['tag', image('e2e/from-skopeo:1'), image('e2e/from-podman:p1')]);
    await tools.podman([
      'push',
      '--signature-policy',
      tools.policy,
      '--tls-verify=false',
      image('e2e/from-podman:p1'),
    ]);

    const pushed = await inspectRaw('e2e/from-podman:p1');
    assert.equal(pushed.body.config.digest, built.config.digest);
    assert.equal(pushed.body.layers.length, built.layers.length);
    assert.deepEqual(await diffIds('e2e/from-podman:p1'), await diffIds('e2e/from-skopeo:1'));

    // Every blob podman uploaded reads back intact, and the layers hold the files.
    const dirBack = join(work, 'podman-dir');
    await tools.skopeo([
      'copy',
      '--src-tls-verify=false',
      `docker://${image('e2e/from-podman:p1')}`,
      `dir:${dirBack}`,
    ]);
    assert.equal(sha256(readFileSync(join(dirBack, 'manifest.json'))), pushed.digest);
    const files = pushed.body.layers.flatMap((layer) => {
      const bytes = readFileSync(join(dirBack, layer.digest.slice('sha256:'.length)));
      assert.equal(sha256(bytes), layer.digest);
      return tarEntries(bytes).map((e) => e.path.replace(/^\.?\//, ''));
    });
    assert.ok(files.includes('etc/os-release'), `layers hold: ${files.join(', ')}`);
    assert.ok(files.includes('opt/app/blob.bin'), `layers hold: ${files.join(', ')}`);
  });

  it('pushes in Docker format and pulls back by digest after the local copy is removed', async (t) => {
    if (!needTools(t, 'podman', 'skopeo')) return;
    const built = await pushWithSkopeo('e2e/podman-docker-src:1');
    await tools.podman([
      'pull',
      '--signature-policy',
      tools.policy,
      '--tls-verify=false',
      image('e2e/podman-docker-src:1'),
    ]);
    await tools.podman(['tag', image('e2e/podman-docker-src:1'), image('e2e/podman-docker:d1')]);
    await tools.podman([
      'push',
      '--signature-policy',
      tools.policy,
      '--tls-verify=false',
      '--format',
      'v2s2',
      image('e2e/podman-docker:d1'),
    ]);
    const pushed = await inspectRaw('e2e/podman-docker:d1');
    assert.equal(pushed.body.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');

    await tools.podman(['rmi', '--all', '--force']);
    await tools.podman([
      'pull',
      '--signature-policy',
      tools.policy,
      '--tls-verify=false',
      image(`e2e/podman-docker@${pushed.digest}`),
    ]);
    const { stdout } = await tools.podman([
      'image',
      'inspect',
      '--format',
      '{{.Digest}} {{.Id}}',
      image(`e2e/podman-docker@${pushed.digest}`),
    ]);
    const [digest, id] = stdout.trim().split(' ');
    assert.equal(digest, pushed.digest);
    assert.equal(`sha256:${id}`, pushed.body.config.digest);
    // Only the descriptors change type: the config bytes and layer contents are those skopeo pushed.
    assert.equal(pushed.body.config.mediaType, 'application/vnd.docker.container.image.v1+json');
    assert.equal(pushed.body.config.digest, built.config.digest);
    for (const layer of pushed.body.layers)
      assert.equal(layer.mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
    assert.deepEqual(await diffIds('e2e/podman-docker:d1'), await diffIds('e2e/podman-docker-src:1'));
  });
});
