import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../../test/helpers/databases.js';
import type { MetaStore } from '../../db/store.js';
import { systemClock } from '../../lib/clock.js';
import { createLogger } from '../../lib/logger.js';
import { digestOf } from '../../oci/digest.js';
import { mediaTypes } from '../../oci/media-types.js';
import { PathNotFoundError } from '../../storage/driver.js';
import { layout } from '../../storage/layout.js';
import { MemoryDriver } from '../../storage/memory.js';
import type { RequestContext } from '../context.js';
import { EventBus, type DomainEvents } from '../events.js';
import { BlobWriteGuard } from '../gc/blob-write-guard.js';
import { ImmutabilityService } from '../policies/immutability/immutability-service.js';
import { QuotaService } from '../policies/quota/quota-service.js';
import { ManifestService } from './manifest-service.js';
import { Namespaces } from './namespaces.js';
import { PullRecorder } from './pull-recorder.js';

const log = createLogger('silent');
const ctx: RequestContext = { log };

/** An OCI image manifest over a config and one layer with the given contents. */
type Blob = [digest: string, size: number];

function image(config: string, layer: string): { body: Buffer; blobs: [Blob, Blob] } {
  const blobs: [Blob, Blob] = [
    [digestOf(config), config.length],
    [digestOf(layer), layer.length],
  ];
  const body = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: mediaTypes.ociManifest,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: blobs[0][0],
        size: blobs[0][1],
      },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: blobs[1][0], size: blobs[1][1] },
      ],
    }),
  );
  return { body, blobs };
}

for (const dialect of testDialects()) {
  describe(`ManifestService.put on ${dialect}`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    let projectId: number;

    before(async () => {
      ({ store, database } = await createTestStore(dialect));
      projectId = (await store.projects.ensure('proj', new Date().toISOString())).id;
    });
    after(() => database.close());

    /** A ManifestService over fresh storage, recording the events it raises. */
    function service(cacheBytes = 4 * 2 ** 20) {
      const storage = new MemoryDriver();
      const events = new EventBus((_name, err) => {
        throw err;
      });
      const published: DomainEvents['ArtifactPushed'][] = [];
      const emitted: DomainEvents['ArtifactPushed'][] = [];
      events.onTransaction('ArtifactPushed', async (_tx, e) => void published.push(e));
      events.on('ArtifactPushed', (e) => void emitted.push(e));
      const manifests = new ManifestService({
        store,
        storage,
        namespaces: new Namespaces({ store, clock: systemClock }),
        events,
        pulls: new PullRecorder({ store, clock: systemClock, log, intervalMs: 60_000 }),
        clock: systemClock,
        immutability: new ImmutabilityService({ store, clock: systemClock }),
        quota: new QuotaService({ store, events, clock: systemClock }),
        writes: new BlobWriteGuard({ store, storage, clock: systemClock }),
        cacheBytes,
      });
      return { manifests, storage, events, published, emitted };
    }

    async function linkBlobs(blobs: Blob[]): Promise<void> {
      for (const [digest, size] of blobs)
        await store.blobs.link(projectId, digest, size, new Date().toISOString());
    }

    test('a push by tag stores the bytes, writes artifact and tag rows, and raises ArtifactPushed', async () => {
      const { manifests, storage, published, emitted } = service();
      const { body, blobs } = image('{"os":"linux"}', 'layer one');
      await linkBlobs(blobs);
      const digest = digestOf(body);
      const pushed = await manifests.put(ctx, 'proj/app', 'v1', body, mediaTypes.ociManifest);
      assert.deepEqual(await storage.getContent(layout.blob(digest)), body);
      const repo = await store.repositories.findByName('proj/app');
      assert.ok(repo);
      const artifact = await store.artifacts.findByDigest(repo.id, digest);
      assert.ok(artifact);
      assert.deepEqual(pushed, { digest, subject: null, artifactId: artifact.id, repositoryId: repo.id });
      assert.equal(artifact?.media_type, mediaTypes.ociManifest);
      assert.equal(artifact?.size, body.length + blobs[0][1] + blobs[1][1]);
      const tagged = await manifests.get(ctx, 'proj/app', 'v1');
      assert.equal(tagged.digest, digest);
      const event = {
        repository: 'proj/app',
        digest,
        tag: 'v1',
        mediaType: mediaTypes.ociManifest,
        size: artifact?.size,
        actor: undefined,
      };
      // The transaction's subscribers (webhooks) also get the repository's creation time.
      assert.deepEqual(published, [{ ...event, repositoryCreated: repo.creation_time }]);
      assert.deepEqual(emitted, [event]);
    });

    test('the manifest cache holds at most its bytes: evicted manifests are read from storage again, and 0 keeps none', async () => {
      const limit = 8 * 1024;
      const { manifests, storage } = service(limit);
      const pushed: { tag: string; body: Buffer }[] = [];
      for (let i = 0; i < 40; i++) {
        const { body, blobs } = image(`{"os":"linux","n":${i}}`, `cached layer ${i}`);
        await linkBlobs(blobs);
        await manifests.put(ctx, 'proj/cached', `t${i}`, body, mediaTypes.ociManifest);
        pushed.push({ tag: `t${i}`, body });
        assert.ok(manifests.cachedBytes <= limit, `${manifests.cachedBytes} bytes cached`);
      }
      // 40 manifests of ~450 bytes (+256 each) are ~28 KiB: most were evicted, and every one still pulls whole.
      assert.ok(manifests.cachedBytes > limit / 2);
      for (const { tag, body } of pushed)
        assert.deepEqual((await manifests.get(ctx, 'proj/cached', tag)).body, body);
      // The newest stay cached: they answer with their bytes gone from storage; the oldest do not.
      const newest = pushed.at(-1)!;
      const oldest = pushed[0]!;
      await storage.delete(layout.blob(digestOf(newest.body)));
      await storage.delete(layout.blob(digestOf(oldest.body)));
      assert.deepEqual((await manifests.get(ctx, 'proj/cached', newest.tag)).body, newest.body);
      await assert.rejects(manifests.get(ctx, 'proj/cached', oldest.tag), { code: 'MANIFEST_UNKNOWN' });

      const uncached = service(0);
      const { body, blobs } = image('{"os":"linux","n":"none"}', 'uncached layer');
      await linkBlobs(blobs);
      await uncached.manifests.put(ctx, 'proj/uncached', 'v1', body, mediaTypes.ociManifest);
      assert.equal(uncached.manifests.cachedBytes, 0);
      await uncached.storage.delete(layout.blob(digestOf(body)));
      await assert.rejects(uncached.manifests.get(ctx, 'proj/uncached', 'v1'), { code: 'MANIFEST_UNKNOWN' });
    });

    test('refuses a manifest whose layer is not in the project, and writes nothing', async () => {
      const { manifests, storage, published } = service();
      const { body, blobs } = image('{"os":"plan9"}', 'a layer never uploaded');
      await linkBlobs([blobs[0]]);
      await assert.rejects(manifests.put(ctx, 'proj/missing', 'v1', body, mediaTypes.ociManifest), {
        code: 'MANIFEST_BLOB_UNKNOWN',
      });
      await assert.rejects(storage.stat(layout.blob(digestOf(body))), PathNotFoundError);
      assert.equal(await store.repositories.findByName('proj/missing'), undefined);
      assert.deepEqual(published, []);
    });

    test('refuses a push by digest whose body has another digest', async () => {
      const { manifests } = service();
      const { body, blobs } = image('{"os":"linux","v":2}', 'layer two');
      await linkBlobs(blobs);
      await assert.rejects(
        manifests.put(ctx, 'proj/app', digestOf('something else'), body, mediaTypes.ociManifest),
        { code: 'DIGEST_INVALID' },
      );
    });

    test('a transactional subscriber that throws rolls the whole push back', async () => {
      const { manifests, events, emitted } = service();
      events.onTransaction('ArtifactPushed', async () => {
        throw new Error('subscriber refused');
      });
      const { body, blobs } = image('{"os":"linux","v":3}', 'layer three');
      await linkBlobs(blobs);
      await assert.rejects(manifests.put(ctx, 'proj/rolled', 'v1', body, mediaTypes.ociManifest), /refused/);
      assert.equal(await store.repositories.findByName('proj/rolled'), undefined);
      assert.deepEqual(emitted, []);
    });
  });
}
