// skopeo (Debian) against a real Berth, on every metadata backend: push images built locally, pull
// them back, multi-arch with --all, delete, list-tags, and copies between repositories of Berth.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../helpers/berth.js';
import { containerTools, type ContainerTools } from '../helpers/containers.js';
import { buildWithUmoci, ociMediaTypes, OciLayout, sha256, tempDir } from '../helpers/images.js';
import { needTools } from '../helpers/tools.js';

interface RawManifest {
  mediaType?: string;
  config?: { digest: string };
  layers?: { digest: string }[];
  manifests?: { digest: string; platform?: { architecture: string; os: string } }[];
}

for (const backend of backends()) {
  describe(`skopeo against Berth (${backend})`, () => {
    let berth: RunningBerth;
    let tools: ContainerTools;
    let work: string;

    before(async () => {
      berth = await startBerth({ backend });
      tools = containerTools();
      tools.login(berth.host, berth.admin);
      for (const p of ['e2e', 'team-a', 'team-b', 'team-c', 'team-d']) await berth.createProject(p);
      work = tempDir('skopeo');
    });
    after(async () => {
      await berth?.close();
      tools?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    const docker = (ref: string) => `docker://${berth.host}/${ref}`;
    const push = (src: string, ref: string, ...flags: string[]) =>
      tools.skopeo(['copy', '--dest-tls-verify=false', ...flags, src, docker(ref)]);
    const pull = (ref: string, dest: string, ...flags: string[]) =>
      tools.skopeo(['copy', '--src-tls-verify=false', ...flags, docker(ref), dest]);
    /** The manifest exactly as Berth serves it, its digest, and the parsed body. */
    const inspectRaw = async (ref: string) => {
      const { stdout } = await tools.skopeo(['inspect', '--raw', '--tls-verify=false', docker(ref)]);
      return { raw: stdout, digest: sha256(stdout), body: JSON.parse(stdout) as RawManifest };
    };
    const inspect = async (ref: string) => {
      const { stdout } = await tools.skopeo(['inspect', '--tls-verify=false', docker(ref)]);
      return JSON.parse(stdout) as {
        Digest: string;
        Layers: string[];
        RepoTags: string[];
        Architecture: string;
      };
    };
    const listTags = async (repo: string) => {
      const { stdout } = await tools.skopeo(['list-tags', '--tls-verify=false', docker(repo)]);
      return (JSON.parse(stdout) as { Tags: string[] }).Tags;
    };

    it('pushes an umoci-built image and pulls it back into oci: and dir: with the same digests', async (t) => {
      if (!needTools(t, 'skopeo', 'umoci')) return;
      const layoutDir = join(work, 'umoci');
      const built = await buildWithUmoci(
        layoutDir,
        'v1',
        { 'etc/motd': 'built by umoci for berth\n', 'usr/share/berth/data.txt': 'x'.repeat(10_000) },
        ['/bin/sh', '-c', 'cat /etc/motd'],
      );
      await push(`oci:${layoutDir}:v1`, 'e2e/umoci-app:v1');

      const served = await inspectRaw('e2e/umoci-app:v1');
      assert.equal(served.digest, built.manifest.digest, 'Berth must serve the manifest bytes it was given');
      assert.equal(served.body.mediaType ?? ociMediaTypes.manifest, ociMediaTypes.manifest);
      const info = await inspect('e2e/umoci-app:v1');
      assert.equal(info.Digest, built.manifest.digest);
      assert.deepEqual(
        info.Layers,
        built.layers.map((l) => l.digest),
      );
      assert.deepEqual(info.RepoTags, ['v1']);

      const back = new OciLayout(join(work, 'umoci-back'));
      await pull('e2e/umoci-app:v1', back.ref('pulled'));
      const pulled = back.image('pulled');
      assert.equal(pulled.manifest.digest, built.manifest.digest);
      assert.equal(pulled.config.digest, built.config.digest);
      assert.deepEqual(pulled.layers, built.layers);
      assert.deepEqual(back.corruptBlobs(), []);

      const dirBack = join(work, 'umoci-dir');
      await pull('e2e/umoci-app:v1', `dir:${dirBack}`);
      assert.equal(sha256(readFileSync(join(dirBack, 'manifest.json'))), built.manifest.digest);
      const blobs = readdirSync(dirBack).filter((f) => /^[0-9a-f]{64}$/.test(f));
      assert.deepEqual(
        blobs.map((hex) => `sha256:${hex}`).sort(),
        [built.config.digest, ...built.layers.map((l) => l.digest)].sort(),
      );
      for (const hex of blobs)
        assert.equal(sha256(readFileSync(join(dirBack, hex))), `sha256:${hex}`, `blob ${hex} pulled corrupt`);
    });

    it('pushes a hand-made multi-layer image as Docker schema 2 and pulls it back', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      const layout = new OciLayout(join(work, 'v2s2'));
      layout.addImage({
        tag: 'src',
        layers: [[{ path: 'a.bin' }], [{ path: 'b.bin' }, { path: 'c.txt', content: 'c' }], [{ path: 'd' }]],
      });
      await push(layout.ref('src'), 'e2e/docker-format:1', '--format', 'v2s2');

      const served = await inspectRaw('e2e/docker-format:1');
      assert.equal(served.body.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
      assert.equal(served.body.layers?.length, 3);
      const dirBack = join(work, 'v2s2-dir');
      await pull('e2e/docker-format:1', `dir:${dirBack}`);
      assert.equal(sha256(readFileSync(join(dirBack, 'manifest.json'))), served.digest);
      for (const layer of served.body.layers ?? []) {
        const file = join(dirBack, layer.digest.slice('sha256:'.length));
        assert.equal(sha256(readFileSync(file)), layer.digest);
      }
    });

    it('copies a multi-arch OCI index with --all and serves each child by digest', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      const layout = new OciLayout(join(work, 'multi'));
      const built = layout.addIndex('multi', [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ]);
      await push(layout.ref('multi'), 'e2e/multi:1', '--all');

      const served = await inspectRaw('e2e/multi:1');
      assert.equal(served.digest, built.index.digest);
      assert.equal(served.body.mediaType, ociMediaTypes.index);
      assert.deepEqual(
        served.body.manifests?.map((m) => m.digest),
        built.children.map((c) => c.manifest.digest),
      );
      for (const child of built.children) {
        const byDigest = await inspectRaw(`e2e/multi@${child.manifest.digest}`);
        assert.equal(byDigest.digest, child.manifest.digest);
        assert.deepEqual(
          byDigest.body.layers?.map((l) => l.digest),
          child.layers.map((l) => l.digest),
        );
        // skopeo resolves the index to the child for the platform asked for (its `Digest` stays the
        // index's, so the child is recognised by its layers).
        const { stdout } = await tools.skopeo([
          '--override-arch',
          child.platform.architecture,
          'inspect',
          '--tls-verify=false',
          docker('e2e/multi:1'),
        ]);
        const resolved = JSON.parse(stdout) as { Digest: string; Architecture: string; Layers: string[] };
        assert.equal(resolved.Digest, built.index.digest);
        assert.equal(resolved.Architecture, child.platform.architecture);
        assert.deepEqual(
          resolved.Layers,
          child.layers.map((l) => l.digest),
        );
      }

      const back = new OciLayout(join(work, 'multi-back'));
      await pull('e2e/multi:1', back.ref('all'), '--all');
      assert.equal(back.find('all').digest, built.index.digest);
      assert.deepEqual(back.corruptBlobs(), []);
      for (const child of built.children)
        assert.deepEqual(
          back.readJson<RawManifest>(child.manifest.digest).config?.digest,
          child.config.digest,
        );
    });

    it('lists every pushed tag', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      const layout = new OciLayout(join(work, 'tags'));
      layout.addImage({ tag: 'one' });
      layout.addImage({ tag: 'two' });
      const tags = ['1.0', '1.0.1', 'latest', 'stable', 'v2-rc_1'];
      for (const [i, tag] of tags.entries()) await push(layout.ref(i % 2 ? 'one' : 'two'), `e2e/tags:${tag}`);
      assert.deepEqual((await listTags('e2e/tags')).sort(), [...tags].sort());
    });

    it('deletes a manifest by digest: the digest and its tags are gone, other tags stay', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      const layout = new OciLayout(join(work, 'delete'));
      const doomed = layout.addImage({ tag: 'doomed' });
      const kept = layout.addImage({ tag: 'kept' });
      await push(layout.ref('doomed'), 'e2e/delete:a');
      await push(layout.ref('doomed'), 'e2e/delete:b');
      await push(layout.ref('kept'), 'e2e/delete:keep');
      assert.deepEqual((await listTags('e2e/delete')).sort(), ['a', 'b', 'keep']);

      await tools.skopeo(['delete', '--tls-verify=false', docker(`e2e/delete@${doomed.manifest.digest}`)]);

      for (const ref of [`e2e/delete@${doomed.manifest.digest}`, 'e2e/delete:a', 'e2e/delete:b']) {
        const failure = await tools.skopeoFails(['inspect', '--raw', '--tls-verify=false', docker(ref)]);
        assert.match(failure.stderr, /manifest unknown/i, `${ref}: ${failure.message}`);
      }
      assert.deepEqual(await listTags('e2e/delete'), ['keep']);
      assert.equal((await inspectRaw('e2e/delete:keep')).digest, kept.manifest.digest);
    });

    it('copies an image between repositories of Berth with the same digests', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      const layout = new OciLayout(join(work, 'copy'));
      const built = layout.addImage({ tag: 'src', layers: [[{ path: 'x' }], [{ path: 'y' }]] });
      await push(layout.ref('src'), 'team-a/x:1');
      const source = await inspect('team-a/x:1');
      // Each copy mounts the layers and streams the config through Berth (GET, then upload); several
      // targets once exposed a file descriptor closed twice, which reset a client's next connection.
      for (const target of ['team-b/nested/y:1', 'team-c/y:1', 'team-d/deep/er/y:copied']) {
        await tools.skopeo([
          'copy',
          '--src-tls-verify=false',
          '--dest-tls-verify=false',
          docker('team-a/x:1'),
          docker(target),
        ]);
        const copy = await inspect(target);
        assert.equal(copy.Digest, built.manifest.digest, target);
        assert.deepEqual(copy.Layers, source.Layers, target);
      }

      const dirBack = join(work, 'copy-dir');
      await pull('team-b/nested/y:1', `dir:${dirBack}`);
      assert.equal(sha256(readFileSync(join(dirBack, 'manifest.json'))), built.manifest.digest);
      for (const blob of [built.config, ...built.layers])
        assert.equal(sha256(readFileSync(join(dirBack, blob.digest.slice(7)))), blob.digest);
    });
  });
}
