import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { RemoteRegistry } from '../../../src/remotes/adapter.js';
import { copyArtifact } from '../../../src/remotes/copy.js';
import { createRemote } from '../../../src/remotes/remotes.js';
import { backends, startBerth, testAdmin, type RunningBerth } from '../../helpers/berth.js';
import { closeNow, makeImage, makeIndex } from '../../helpers/registry-client.js';

/** The `harbor` adapter against real Berths: projects API, double-encoded nested names, project creation. */
for (const backend of backends()) {
  describe(`harbor adapter between two Berths (${backend})`, () => {
    let source: RunningBerth;
    let target: RunningBerth;
    let a: RemoteRegistry;
    let b: RemoteRegistry;
    const children = [makeImage({ layers: 1 }), makeImage({ layers: 1, architecture: 'arm64' })];
    const index = makeIndex(children);
    before(async () => {
      source = await startBerth({ backend });
      target = await startBerth({ backend });
      const credential = {
        type: 'basic' as const,
        accessKey: testAdmin.username,
        accessSecret: testAdmin.password,
      };
      a = createRemote({ type: 'harbor', name: 'berth-a', url: source.url, credential });
      b = createRemote({ type: 'harbor', name: 'berth-b', url: target.url, credential });
      for (const m of [...children, index]) {
        for (const blob of m.blobs)
          await a.putBlob('library/team/app', blob.digest, blob.bytes.length, Readable.from([blob.bytes]));
        await a.putManifest('library/team/app', m === index ? 'v1' : m.digest, m.mediaType, m.bytes);
      }
    });
    after(async () => {
      await a?.close();
      await b?.close();
      if (source) await closeNow(source);
      if (target) await closeNow(target);
    });

    it('lists projects, repositories and artifacts through /api/v2.0', async () => {
      await a.ping();
      assert.ok((await a.listNamespaces()).includes('library'));
      assert.deepEqual(await a.listRepositories({ namespace: 'library' }), ['library/team/app']);
      const artifacts = await a.listArtifacts('library/team/app');
      const top = artifacts.find((x) => x.digest === index.digest);
      assert.ok(top, `index not listed: ${JSON.stringify(artifacts)}`);
      assert.deepEqual(top.tags, ['v1']);
    });

    it('creates the destination project, then copies the index with digests preserved', async () => {
      await b.prepareForPush(['mirror/team/app']);
      assert.ok((await b.listNamespaces()).includes('mirror'));
      await b.prepareForPush(['mirror/team/app']); // idempotent
      const result = await copyArtifact({
        source: a,
        sourceRepository: 'library/team/app',
        reference: 'v1',
        destination: b,
        destinationRepository: 'mirror/team/app',
      });
      assert.equal(result.digest, index.digest);
      const copied = await b.listArtifacts('mirror/team/app');
      assert.deepEqual(copied.find((x) => x.digest === index.digest)?.tags, ['v1']);
      for (const c of children)
        assert.equal((await b.headManifest('mirror/team/app', c.digest))?.digest, c.digest);
    });
  });
}
