import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createTestStore, type TestDatabase } from '../../../test/helpers/databases.js';
import type { MetaStore } from '../../db/store.js';
import type { Clock } from '../../lib/clock.js';
import { createLogger } from '../../lib/logger.js';
import { PathNotFoundError } from '../../storage/driver.js';
import { layout } from '../../storage/layout.js';
import { MemoryDriver } from '../../storage/memory.js';
import { EventBus } from '../events.js';
import { Namespaces } from './namespaces.js';
import { QuotaService } from '../policies/quota/quota-service.js';
import { BlobWriteGuard } from '../gc/blob-write-guard.js';
import { UploadSessions } from './upload-sessions.js';

const ctx = { log: createLogger('silent') };
const hour = 3600_000;

describe('UploadSessions.purgeStale', () => {
  let store: MetaStore;
  let database: TestDatabase;
  before(async () => {
    ({ store, database } = await createTestStore('sqlite'));
    await store.projects.ensure('purge', new Date().toISOString());
  });
  after(() => database.close());

  test('removes sessions idle longer than the limit with their bytes, and keeps active ones', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const clock: Clock = { now: () => new Date(now) };
    const storage = new MemoryDriver();
    const events = new EventBus(() => undefined);
    const sessions = new UploadSessions({
      store,
      storage,
      namespaces: new Namespaces({ store, clock }),
      events,
      clock,
      quota: new QuotaService({ store, events, clock }),
      writes: new BlobWriteGuard({ store, storage, clock }),
    });
    const old = await sessions.start(ctx, 'purge/app');
    await sessions.append(ctx, 'purge/app', old.id, Readable.from([Buffer.from('abandoned')]));
    now += 30 * hour;
    const fresh = await sessions.start(ctx, 'purge/app');
    await sessions.append(ctx, 'purge/app', fresh.id, Readable.from([Buffer.from('active')]));
    now += 1 * hour;

    assert.equal(await sessions.purgeStale(24 * hour), 1);
    await assert.rejects(sessions.status(ctx, 'purge/app', old.id), { code: 'BLOB_UPLOAD_UNKNOWN' });
    await assert.rejects(storage.stat(layout.upload(old.id)), PathNotFoundError);
    assert.equal((await sessions.status(ctx, 'purge/app', fresh.id)).size, 6);
    assert.equal(await sessions.purgeStale(24 * hour), 0);
  });
});
