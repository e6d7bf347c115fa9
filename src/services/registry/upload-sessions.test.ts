import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createTestStore, type TestDatabase } from '../../../test/helpers/databases.js';
import type { MetaStore } from '../../db/store.js';
import { systemClock } from '../../lib/clock.js';
import { createLogger } from '../../lib/logger.js';
import { digestOf } from '../../oci/digest.js';
import { PathNotFoundError, type ByteRange } from '../../storage/driver.js';
import { layout } from '../../storage/layout.js';
import { MemoryDriver } from '../../storage/memory.js';
import type { RequestContext } from '../context.js';
import { EventBus, type DomainEvents } from '../events.js';
import { Namespaces } from './namespaces.js';
import { QuotaService } from '../policies/quota/quota-service.js';
import { BlobWriteGuard } from '../gc/blob-write-guard.js';
import { UploadSessions } from './upload-sessions.js';

const ctx: RequestContext = { log: createLogger('silent') };
const body = (...parts: string[]) => Readable.from(parts.map((p) => Buffer.from(p)));

describe('UploadSessions', () => {
  let store: MetaStore;
  let database: TestDatabase;
  let storage: MemoryDriver;
  let uploaded: DomainEvents['BlobUploaded'][];

  before(async () => {
    ({ store, database } = await createTestStore('sqlite'));
    for (const p of ['proj', 'other']) await store.projects.ensure(p, new Date().toISOString());
  });
  after(() => database.close());
  beforeEach(() => {
    storage = new MemoryDriver();
    uploaded = [];
  });

  /** One Berth node's UploadSessions; several over the same store and storage act as a cluster. */
  function node(): UploadSessions {
    const events = new EventBus((_name, err) => {
      throw err;
    });
    events.on('BlobUploaded', (e) => void uploaded.push(e));
    const namespaces = new Namespaces({ store, clock: systemClock });
    return new UploadSessions({
      store,
      storage,
      namespaces,
      events,
      clock: systemClock,
      writes: new BlobWriteGuard({ store, storage, clock: systemClock }),
      quota: new QuotaService({ store, events, clock: systemClock }),
    });
  }

  async function blobBytes(digest: string): Promise<string> {
    return (await storage.getContent(layout.blob(digest))).toString();
  }

  test('a chunked upload completes with its digest and links the blob to the project', async () => {
    const a = node();
    const { id } = await a.start(ctx, 'proj/app');
    assert.deepEqual(await a.append(ctx, 'proj/app', id, body('hello '), { start: 0, end: 5 }), {
      id,
      size: 6,
    });
    assert.equal((await a.status(ctx, 'proj/app', id)).size, 6);
    const digest = digestOf('hello world');
    assert.deepEqual(await a.finish(ctx, 'proj/app', id, digest, body('world')), { digest, size: 11 });
    assert.equal(await blobBytes(digest), 'hello world');
    const project = await store.projects.findByName('proj');
    assert.equal(await store.blobs.sizeInProject(project!.id, digest), 11);
    assert.deepEqual(uploaded, [{ repository: 'proj/app', digest, size: 11 }]);
    await assert.rejects(a.status(ctx, 'proj/app', id), { code: 'BLOB_UPLOAD_UNKNOWN' });
    await assert.rejects(storage.stat(layout.uploadDir(id)), PathNotFoundError);
  });

  test('another node without the hash state recomputes the digest from storage', async () => {
    const a = node();
    const b = node();
    const { id } = await a.start(ctx, 'proj/app');
    await a.append(ctx, 'proj/app', id, body('first '));
    await b.append(ctx, 'proj/app', id, body('second '), { start: 6, end: 12 });
    assert.equal((await a.status(ctx, 'proj/app', id)).size, 13);
    // `a` saw only the first chunk: its in-memory hash is stale and must not be used.
    const digest = digestOf('first second third');
    assert.deepEqual(await a.finish(ctx, 'proj/app', id, digest, body('third')), { digest, size: 18 });
    assert.equal(await blobBytes(digest), 'first second third');
  });

  test('recomputing the digest hands each chunk read back to the read, to be read into again', async () => {
    // Storage whose reads lend their chunks (as the filesystem's do): counts what went out and came back.
    let lent = 0;
    const returned = new Set<Buffer>();
    const plain = storage;
    storage = Object.assign(new MemoryDriver(), plain, {
      read: async (path: string, range?: ByteRange): Promise<Readable> => {
        assert.equal(range, undefined);
        const whole = await plain.getContent(path);
        const chunks = Array.from({ length: Math.ceil(whole.length / 4) }, (_, i) =>
          whole.subarray(i * 4, i * 4 + 4),
        );
        lent += chunks.length;
        return Object.assign(Readable.from(chunks), { recycle: (c: Buffer) => void returned.add(c) });
      },
    });
    const a = node();
    const { id } = await a.start(ctx, 'proj/app');
    await node().append(ctx, 'proj/app', id, body('read back from storage '));
    const digest = digestOf('read back from storage and hashed');
    assert.deepEqual(await a.finish(ctx, 'proj/app', id, digest, body('and hashed')), { digest, size: 33 });
    assert.ok(lent > 0, 'the digest was not recomputed from storage');
    assert.equal(returned.size, lent);
  });

  test('a node that never saw the session finishes it, for sha256 and sha512', async () => {
    for (const algorithm of ['sha256', 'sha512'] as const) {
      const { id } = await node().start(ctx, 'proj/app');
      await node().append(ctx, 'proj/app', id, body('abc'));
      const digest = digestOf(`abc${algorithm}`, algorithm);
      assert.deepEqual(await node().finish(ctx, 'proj/app', id, digest, body(algorithm)), {
        digest,
        size: 3 + algorithm.length,
      });
      assert.equal(await blobBytes(digest), `abc${algorithm}`);
    }
  });

  test('a wrong digest is DIGEST_INVALID and the session and its bytes are gone', async () => {
    const a = node();
    const { id } = await a.start(ctx, 'proj/app');
    await a.append(ctx, 'proj/app', id, body('some bytes'));
    const wrong = digestOf('other bytes');
    await assert.rejects(
      a.finish(ctx, 'proj/app', id, wrong),
      (err: Error & { code?: string; detail?: unknown }) => {
        assert.equal(err.code, 'DIGEST_INVALID');
        assert.deepEqual(err.detail, { expected: wrong, actual: digestOf('some bytes') });
        return true;
      },
    );
    await assert.rejects(a.status(ctx, 'proj/app', id), { code: 'BLOB_UPLOAD_UNKNOWN' });
    await assert.rejects(a.append(ctx, 'proj/app', id, body('x')), { code: 'BLOB_UPLOAD_UNKNOWN' });
    assert.equal(await store.uploads.find(id), undefined);
    assert.deepEqual(await storage.list('uploads'), []);
    await assert.rejects(storage.stat(layout.blob(wrong)), PathNotFoundError);
    await assert.rejects(storage.stat(layout.blob(digestOf('some bytes'))), PathNotFoundError);
    assert.deepEqual(uploaded, []);
  });

  test('an out-of-order range is RANGE_INVALID and leaves the session as it was', async () => {
    const a = node();
    const { id } = await a.start(ctx, 'proj/app');
    await a.append(ctx, 'proj/app', id, body('0123'), { start: 0, end: 3 });
    for (const range of [
      { start: 8, end: 11 },
      { start: 2, end: 5 },
      { start: 0, end: 3 },
      { start: 4, end: 2 },
    ]) {
      await assert.rejects(
        a.append(ctx, 'proj/app', id, body('xxxx'), range),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'RANGE_INVALID', JSON.stringify(range));
          return true;
        },
      );
    }
    assert.equal((await a.status(ctx, 'proj/app', id)).size, 4);
    await a.append(ctx, 'proj/app', id, body('4567'), { start: 4, end: 7 });
    const digest = digestOf('01234567');
    assert.equal((await a.finish(ctx, 'proj/app', id, digest)).size, 8);
  });

  test('a Content-Length that differs from the chunk is SIZE_INVALID', async () => {
    const a = node();
    const { id } = await a.start(ctx, 'proj/app');
    await assert.rejects(a.append(ctx, 'proj/app', id, body('abc'), { start: 0, end: 2 }, 5), {
      code: 'SIZE_INVALID',
    });
    await assert.rejects(a.append(ctx, 'proj/app', id, body('abc'), undefined, 4), { code: 'SIZE_INVALID' });
  });

  test('a chunk whose stream fails is not counted and the upload can go on', async () => {
    const a = node();
    const { id } = await a.start(ctx, 'proj/app');
    await a.append(ctx, 'proj/app', id, body('good '));
    const broken = Readable.from(
      (async function* () {
        yield Buffer.from('half');
        throw new Error('client went away');
      })(),
    );
    await assert.rejects(a.append(ctx, 'proj/app', id, broken), { code: 'BLOB_UPLOAD_INVALID' });
    const { size } = await a.status(ctx, 'proj/app', id);
    const stored = (await storage.getContent(layout.upload(id))).toString();
    assert.equal(stored.length, size);
    await a.append(ctx, 'proj/app', id, body('rest'), { start: size, end: size + 3 });
    const digest = digestOf(`${stored}rest`);
    assert.deepEqual(await a.finish(ctx, 'proj/app', id, digest), { digest, size: size + 4 });
  });

  test('a second request on a busy session is RANGE_INVALID', async () => {
    const a = node();
    const { id } = await a.start(ctx, 'proj/app');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = Readable.from(
      (async function* () {
        yield Buffer.from('slow');
        await gate;
      })(),
    );
    const first = a.append(ctx, 'proj/app', id, slow);
    await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(a.append(ctx, 'proj/app', id, body('x')), { code: 'RANGE_INVALID' });
    release();
    assert.equal((await first).size, 4);
  });

  test('a session is known only under its own repository', async () => {
    const a = node();
    const { id } = await a.start(ctx, 'proj/app');
    await assert.rejects(a.status(ctx, 'proj/other', id), { code: 'BLOB_UPLOAD_UNKNOWN' });
    await assert.rejects(a.status(ctx, 'proj/app', 'not-a-uuid'), { code: 'BLOB_UPLOAD_UNKNOWN' });
  });

  test('cancel forgets the session and its bytes', async () => {
    const a = node();
    const { id } = await a.start(ctx, 'proj/app');
    await a.append(ctx, 'proj/app', id, body('bytes'));
    await a.cancel(ctx, 'proj/app', id);
    await assert.rejects(a.status(ctx, 'proj/app', id), { code: 'BLOB_UPLOAD_UNKNOWN' });
    assert.deepEqual(await storage.list('uploads'), []);
  });

  test('an empty blob and a monolithic upload', async () => {
    const a = node();
    const { id } = await a.start(ctx, 'proj/app');
    const empty = digestOf('');
    assert.deepEqual(await a.finish(ctx, 'proj/app', id, empty), { digest: empty, size: 0 });
    assert.equal(await blobBytes(empty), '');
    const digest = digestOf('monolith');
    assert.deepEqual(await a.putMonolithic(ctx, 'proj/app', digest, body('mono', 'lith')), {
      digest,
      size: 8,
    });
    await assert.rejects(a.putMonolithic(ctx, 'proj/app', digestOf('x'), body('y')), {
      code: 'DIGEST_INVALID',
    });
    assert.deepEqual(await storage.list('uploads'), []);
  });
});
