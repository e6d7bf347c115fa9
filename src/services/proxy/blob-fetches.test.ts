import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestStore, type TestDatabase } from '../../../test/helpers/databases.js';
import type { MetaStore } from '../../db/store.js';
import { systemClock } from '../../lib/clock.js';
import { createLogger } from '../../lib/logger.js';
import { layout } from '../../storage/layout.js';
import { MemoryDriver } from '../../storage/memory.js';
import type { RequestContext } from '../context.js';
import { BlobFetches, defaultBacklogBytes } from './blob-fetches.js';

const MiB = 1024 * 1024;
const log = createLogger('silent');
const ctx: RequestContext = { log };

/** Storage on a slow disk: each chunk of a write is taken 4 ms after the previous one; `taken` counts. */
class SlowDisk extends MemoryDriver {
  taken = 0;
  override async write(path: string, source: Readable): Promise<number> {
    const chunks: Buffer[] = [];
    for await (const chunk of source as AsyncIterable<Buffer>) {
      await sleep(4);
      // A copy: the fetch may reuse the memory of a chunk once it was handed back.
      chunks.push(Buffer.from(chunk));
      this.taken += chunk.length;
    }
    return super.write(path, Readable.from([Buffer.concat(chunks)]));
  }
}

/** `count` chunks of 1 MiB, each filled with its index, as fast as they are read. */
function upstreamBlob(count: number): { digest: string; bytes: number; stream: () => Readable } {
  const hash = createHash('sha256');
  for (let i = 0; i < count; i++) hash.update(Buffer.alloc(MiB, i));
  return {
    digest: `sha256:${hash.digest('hex')}`,
    bytes: count * MiB,
    stream: () =>
      Readable.from(
        (function* () {
          for (let i = 0; i < count; i++) yield Buffer.alloc(MiB, i);
        })(),
      ),
  };
}

describe('proxy blob fetches: storage falling behind the client', () => {
  let store: MetaStore;
  let database: TestDatabase;
  let project: { id: number; name: string };
  before(async () => {
    ({ store, database } = await createTestStore('sqlite'));
    project = await store.projects.ensure('proxied', new Date().toISOString());
  });
  after(() => database.close());

  /** Pulls a 32 MiB blob through a fetch; the most bytes the client got ahead of storage, and the bytes. */
  async function pull(backlogBytes: number | undefined) {
    const disk = new SlowDisk();
    const fetches = new BlobFetches({
      store,
      storage: disk,
      clock: systemClock,
      log,
      quota: { precheck: async () => undefined, link: async () => undefined },
      writes: { reserve: async () => undefined },
      ...(backlogBytes === undefined ? {} : { backlogBytes }),
    });
    const blob = upstreamBlob(32);
    const live = await fetches.join(
      ctx,
      { project, repository: 'proxied/app', digest: blob.digest },
      async () => ({ size: blob.bytes, stream: blob.stream() }),
      { live: true },
    );
    assert.ok(live, 'the first client reads the upstream stream');
    const hash = createHash('sha256');
    let received = 0;
    let lead = 0;
    for await (const chunk of live.body as AsyncIterable<Buffer>) {
      hash.update(chunk);
      received += chunk.length;
      lead = Math.max(lead, received - disk.taken);
    }
    assert.equal(received, blob.bytes);
    assert.equal(`sha256:${hash.digest('hex')}`, blob.digest);
    // A blob this large is not held for the disk: it lands moments after the client has it.
    let stored: Buffer | undefined;
    for (let i = 0; i < 500 && !stored; i++)
      stored = await disk.getContent(layout.blob(blob.digest)).catch(() => sleep(10).then(() => undefined));
    assert.equal(stored?.length, blob.bytes, 'the blob is stored whole');
    return lead;
  }

  test('the client runs ahead of a slow disk by at most the backlog (4 MiB by default)', async () => {
    assert.equal(defaultBacklogBytes, 4 * MiB);
    const lead = await pull(undefined);
    // Beyond the backlog: storage's stream holds up to 2 chunks on each side, and the fetch one held back
    // until the next arrives and one being forwarded (8 MiB measured).
    assert.ok(lead <= defaultBacklogBytes + 6 * MiB, `the client got ${lead / MiB} MiB ahead of storage`);
  });

  test('within a larger backlog the client does not wait for the disk', async () => {
    const lead = await pull(64 * MiB);
    assert.ok(lead >= 16 * MiB, `the client got only ${lead / MiB} MiB ahead of storage`);
  });
});
