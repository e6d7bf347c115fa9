import assert from 'node:assert/strict';
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FileReadStream, SparePool } from './file-read-stream.js';

describe('FileReadStream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-frs-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
  const file = join(dir, 'data');
  writeFileSync(file, bytes);

  test('reads the range in chunks, and reads into chunks handed back instead of new memory', async () => {
    const s = new FileReadStream(openSync(file, 'r'), 100, 9_100, 1000);
    const copies: Buffer[] = [];
    const memory = new Set<ArrayBufferLike>();
    for await (const chunk of s) {
      const c = chunk as Buffer;
      copies.push(Buffer.from(c));
      memory.add(c.buffer);
      s.recycle(c);
    }
    assert.deepEqual(Buffer.concat(copies), bytes.subarray(100, 9_100));
    assert.equal(copies.length, 9);
    // One read ahead: two buffers take turns, one with the consumer while the next is read into.
    assert.ok(memory.size <= 2, `9 chunks used ${memory.size} buffers`);
  });

  test('streams sharing a spare pool read into memory an earlier stream handed back', async () => {
    const pool = new SparePool(1000, 8);
    const first = new Set<ArrayBufferLike>();
    const s1 = new FileReadStream(openSync(file, 'r'), 0, 5_000, 1000, pool);
    for await (const chunk of s1) {
      first.add((chunk as Buffer).buffer);
      s1.recycle(chunk as Buffer);
    }
    const s2 = new FileReadStream(openSync(file, 'r'), 5_000, 10_000, 1000, pool);
    const copies: Buffer[] = [];
    for await (const chunk of s2) {
      const c = chunk as Buffer;
      assert.ok(first.has(c.buffer), 'the second stream allocated instead of reusing');
      copies.push(Buffer.from(c));
      s2.recycle(c);
    }
    assert.deepEqual(Buffer.concat(copies), bytes.subarray(5_000, 10_000));
    const fd = openSync(file, 'r');
    assert.throws(() => new FileReadStream(fd, 0, 10, 10, pool), /another chunk size/);
    closeSync(fd);
  });

  test('a spare pool with an idle time lets its spares go once nothing takes from it, not while in use', (t) => {
    // The pool's clock is mocked: with real timers a loaded machine fired its 100 ms look late and the
    // count below read 2 (the suite once, beside a helper's benches at load ~10).
    t.mock.timers.enable({ apis: ['setTimeout'] });
    // A millisecond at a time, so each timer runs at its own time and the next one counts from there.
    const advance = (ms: number) => {
      for (let i = 0; i < ms; i++) t.mock.timers.tick(1);
    };
    let idle = 0;
    const pool = new SparePool(1000, 8, 100, () => idle++);
    const held = [pool.take(), pool.take(), pool.take()];
    for (const b of held) pool.give(b.buffer);
    assert.equal(pool.size, 3);
    // Still in use: a take every 40 ms keeps the spare it takes (the two it never takes go).
    for (let i = 0; i < 5; i++) {
      advance(40);
      pool.give(pool.take().buffer);
    }
    assert.equal(pool.size, 1);
    assert.equal(idle, 0);
    advance(350);
    assert.equal(pool.size, 0, 'an idle pool kept its spares');
    assert.equal(idle, 1);
    // Without an idle time the spares stay.
    const keeper = new SparePool(1000, 8);
    keeper.give(keeper.take().buffer);
    advance(150);
    assert.equal(keeper.size, 1);
  });

  test('a spare pool in use lets go of the spares it did not need, and reads into those it kept', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let idle = 0;
    const pool = new SparePool(1000, 64, 100, () => idle++);
    // A burst of 20 reads at once, then a steady 4 at a time: 16 spares are never taken again.
    const burst = Array.from({ length: 20 }, () => pool.take());
    const burstMemory = new Set(burst.map((b) => b.buffer));
    for (const b of burst) pool.give(b.buffer);
    assert.equal(pool.size, 20);
    for (let ms = 0; ms < 1000 && pool.size > 4; ms += 10) {
      const held = Array.from({ length: 4 }, () => pool.take());
      assert.ok(
        held.every((b) => burstMemory.has(b.buffer)),
        'a steady read took new memory',
      );
      for (let i = 0; i < 10; i++) t.mock.timers.tick(1);
      for (const b of held) pool.give(b.buffer);
    }
    assert.equal(pool.size, 4, 'the spares the steady reads never took were kept');
    assert.equal(idle, 0);
  });

  test('without hand-backs every chunk is new memory, and the bytes are right', async () => {
    const s = new FileReadStream(openSync(file, 'r'), 0, bytes.length, 4096);
    const chunks: Buffer[] = [];
    for await (const chunk of s) chunks.push(chunk as Buffer);
    assert.deepEqual(Buffer.concat(chunks), bytes);
    assert.equal(new Set(chunks.map((c) => c.buffer)).size, chunks.length);
  });

  test('a chunk handed back twice, or memory it never handed out, is not reused', async () => {
    const s = new FileReadStream(openSync(file, 'r'), 0, 3000, 1000);
    const seen: Buffer[] = [];
    for await (const chunk of s) {
      const c = chunk as Buffer;
      seen.push(Buffer.from(c));
      s.recycle(c);
      s.recycle(c);
      s.recycle(Buffer.alloc(1000));
    }
    assert.deepEqual(Buffer.concat(seen), bytes.subarray(0, 3000));
  });

  test('an empty range ends at once; a file shorter than the range is an error', async () => {
    const empty = new FileReadStream(openSync(file, 'r'), 50, 50, 1);
    assert.equal((await empty.toArray()).length, 0);
    const short = new FileReadStream(openSync(file, 'r'), 9_000, 12_000, 1000);
    await assert.rejects(short.toArray(), /file ended at byte 10000 of 12000/);
  });

  test('the descriptor is closed on end and on destroy', async () => {
    const fd1 = openSync(file, 'r');
    await new FileReadStream(fd1, 0, 10, 10).toArray();
    assert.throws(() => fstatSync(fd1), { code: 'EBADF' });
    const fd2 = openSync(file, 'r');
    const s = new FileReadStream(fd2, 0, bytes.length, 100);
    s.once('data', () => s.destroy());
    await new Promise((r) => s.once('close', r));
    assert.throws(() => fstatSync(fd2), { code: 'EBADF' });
  });
});
