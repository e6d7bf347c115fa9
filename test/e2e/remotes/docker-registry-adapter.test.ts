import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { isRemoteError, type RemoteRegistry } from '../../../src/remotes/adapter.js';
import { createRemote } from '../../../src/remotes/remotes.js';
import {
  startDockerRegistry,
  dockerRegistryBinary,
  type RunningDockerRegistry,
} from '../../helpers/docker-registry.js';
import { makeImage, type Manifest } from '../../helpers/registry-client.js';
import { hasTool, needTools } from '../../helpers/tools.js';

/** Pushes an image through the adapter itself: blobs (streamed) then the manifest under `tag`. */
async function push(remote: RemoteRegistry, repo: string, image: Manifest, tag: string, chunkSize?: number) {
  for (const b of image.blobs) {
    await remote.putBlob(repo, b.digest, b.bytes.length, Readable.from([b.bytes]), { chunkSize });
  }
  return remote.putManifest(repo, tag, image.mediaType, image.bytes);
}

describe('docker-registry adapter against CNCF distribution with basic auth', () => {
  let registry: RunningDockerRegistry | undefined;
  let remote: RemoteRegistry;
  before(async () => {
    if (!hasTool(dockerRegistryBinary)) return;
    registry = await startDockerRegistry({ htpasswd: { alice: 's3cret' } });
    remote = createRemote({
      type: 'docker-registry',
      name: 'dist',
      url: registry.url,
      credential: { type: 'basic', accessKey: 'alice', accessSecret: 's3cret' },
    });
  });
  after(async () => {
    await remote?.close();
    await registry?.stop();
  });

  it('pings with the right password', async (t) => {
    if (!needTools(t, dockerRegistryBinary)) return;
    await remote.ping();
    assert.equal(await remote.healthCheck(), 'healthy');
  });

  it('fails ping with a wrong password and says authentication failed for the registry', async (t) => {
    if (!needTools(t, dockerRegistryBinary)) return;
    const wrong = createRemote({
      type: 'docker-registry',
      name: 'dist',
      url: registry!.url,
      credential: { type: 'basic', accessKey: 'alice', accessSecret: 'nope' },
    });
    try {
      await assert.rejects(wrong.ping(), (err: unknown) => {
        assert.ok(isRemoteError(err));
        assert.equal(err.reason, 'auth');
        assert.equal(err.status, 401);
        assert.match(err.message, /^authentication failed for dist \(ping\): 401/);
        assert.doesNotMatch(err.message, /nope/);
        return true;
      });
      assert.equal(await wrong.healthCheck(), 'unhealthy');
    } finally {
      await wrong.close();
    }
  });

  it('pushes monolithic and chunked, then lists repositories, tags and artifacts', async (t) => {
    if (!needTools(t, dockerRegistryBinary)) return;
    const a = makeImage({ layers: 2, layerSize: 50_000 });
    const b = makeImage({ layers: 1, layerSize: 300_000 });
    assert.equal(await push(remote, 'team/a', a, 'v1'), a.digest);
    await remote.putManifest('team/a', 'latest', a.mediaType, a.bytes);
    assert.equal(await push(remote, 'team/b', b, 'v1', 64 * 1024), b.digest);

    assert.deepEqual(await remote.listRepositories(), ['team/a', 'team/b']);
    assert.deepEqual(await remote.listRepositories({ match: (r) => r.endsWith('/b') }), ['team/b']);
    assert.deepEqual(await remote.listNamespaces(), ['team']);
    assert.deepEqual((await remote.listTags('team/a')).sort(), ['latest', 'v1']);
    assert.deepEqual(await remote.listArtifacts('team/a'), [
      { digest: a.digest, mediaType: a.mediaType, tags: ['latest', 'v1'] },
    ]);

    const layer = b.blobs[1]!;
    assert.equal(await remote.headBlob('team/b', layer.digest), layer.bytes.length);
    assert.equal(await remote.headBlob('team/a', layer.digest), null);
    const got = await remote.getBlob('team/b', layer.digest);
    const chunks: Buffer[] = [];
    for await (const c of got.stream) chunks.push(c as Buffer);
    assert.ok(Buffer.concat(chunks).equals(layer.bytes));

    const m = await remote.getManifest('team/b', 'v1');
    assert.equal(m.digest, b.digest);
    assert.ok(m.bytes.equals(b.bytes));
    assert.deepEqual(await remote.headManifest('team/b', 'v1'), {
      digest: b.digest,
      mediaType: b.mediaType,
      size: b.bytes.length,
    });
    assert.equal(await remote.headManifest('team/b', 'nope'), null);

    assert.equal(await remote.mountBlob('team/b', layer.digest, 'team/c'), true);
    assert.equal(await remote.headBlob('team/c', layer.digest), layer.bytes.length);

    await remote.deleteManifest('team/b', 'v1');
    assert.equal(await remote.headManifest('team/b', b.digest), null);
  });

  it('names the artifact and the remote answer when a manifest is missing', async (t) => {
    if (!needTools(t, dockerRegistryBinary)) return;
    await assert.rejects(remote.getManifest('team/a', 'missing'), (err: unknown) => {
      assert.ok(isRemoteError(err));
      assert.equal(err.reason, 'not-found');
      assert.match(err.message, /pull manifest team\/a:missing failed on dist: 404 .*MANIFEST_UNKNOWN/);
      return true;
    });
  });

  it('reports an unreachable registry without hanging', async (t) => {
    if (!needTools(t, dockerRegistryBinary)) return;
    const gone = createRemote(
      { type: 'docker-registry', name: 'gone', url: 'http://127.0.0.1:1' },
      { timeoutMs: 2000 },
    );
    try {
      await assert.rejects(gone.ping(), /ping failed on gone: cannot reach the registry \(ECONNREFUSED\)/);
    } finally {
      await gone.close();
    }
  });
});
