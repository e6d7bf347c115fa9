import assert from 'node:assert/strict';
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { moduleSpecifier, runChildScript } from '../../test/helpers/child-script.js';
import { FileReadStream, SparePool, arenaBytes } from './file-read-stream.js';

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
    const pool = new SparePool(1000, 8, { idleMs: 100, onIdle: () => idle++ });
    const held = [pool.take(), pool.take(), pool.take()];
    for (const b of held) pool.give(b);
    assert.equal(pool.size, 3);
    // Still in use: a take every 40 ms keeps the spare it takes (the two it never takes go).
    for (let i = 0; i < 5; i++) {
      advance(40);
      pool.give(pool.take());
    }
    assert.equal(pool.size, 1);
    assert.equal(idle, 0);
    advance(350);
    assert.equal(pool.size, 0, 'an idle pool kept its spares');
    assert.equal(idle, 1);
    // Without an idle time the spares stay.
    const keeper = new SparePool(1000, 8);
    keeper.give(keeper.take());
    advance(150);
    assert.equal(keeper.size, 1);
  });

  test('a spare pool in use lets go of the spares it did not need, and reads into those it kept', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let idle = 0;
    const pool = new SparePool(1000, 64, { idleMs: 100, onIdle: () => idle++ });
    // A burst of 20 reads at once, then a steady 4 at a time: 16 spares are never taken again.
    const burst = Array.from({ length: 20 }, () => pool.take());
    const burstMemory = new Set(burst.map((b) => b.buffer));
    for (const b of burst) pool.give(b);
    assert.equal(pool.size, 20);
    for (let ms = 0; ms < 1000 && pool.size > 4; ms += 10) {
      const held = Array.from({ length: 4 }, () => pool.take());
      assert.ok(
        held.every((b) => burstMemory.has(b.buffer)),
        'a steady read took new memory',
      );
      for (let i = 0; i < 10; i++) t.mock.timers.tick(1);
      for (const b of held) pool.give(b);
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

  test('an arena pool lends slots of one mapping, never one slot twice, and keeps at most its limit', () => {
    const size = 1024 * 1024;
    const pool = new SparePool(size, 40, { arenas: true });
    const lent = Array.from({ length: 40 }, () => pool.take());
    // 32 slots of the first arena, 8 of a second one cut to the limit.
    assert.equal(pool.arenaCount, 2);
    const first = lent[0]!.buffer;
    assert.equal(first.byteLength, arenaBytes);
    assert.notEqual(lent[39]!.buffer, first);
    assert.equal(lent[39]!.buffer.byteLength, arenaBytes);
    const places = new Set(
      lent.map((b) => `${lent.findIndex((x) => x.buffer === b.buffer)}:${b.byteOffset}`),
    );
    assert.equal(places.size, 40, 'a slot was lent twice');
    for (const b of lent) assert.equal(b.length, size);
    // Past the limit: memory of its own, not kept when handed back.
    const extra = pool.take();
    assert.notEqual(extra.buffer, first);
    assert.notEqual(extra.buffer, lent[39]!.buffer);
    pool.give(extra);
    assert.equal(pool.size, 0);
    // Handed back (by a view that starts where the slot does), then lent again first; twice back counts once.
    const back = lent[5]!;
    pool.give(back.subarray(0, 10));
    pool.give(back);
    assert.equal(pool.size, 1);
    const again = pool.take();
    assert.equal(again.buffer, back.buffer);
    assert.equal(again.byteOffset, back.byteOffset);
    assert.equal(pool.size, 0);
    // Memory the pool never lent is ignored.
    pool.give(Buffer.alloc(size));
    assert.equal(pool.size, 0);
  });

  test('an arena pool lets an arena go when none of its slots was lent between two looks, and all once idle', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const advance = (ms: number) => {
      for (let i = 0; i < ms; i++) t.mock.timers.tick(1);
    };
    let idle = 0;
    const chunk = 8 * 1024 * 1024;
    const pool = new SparePool(chunk, 16, { idleMs: 100, onIdle: () => idle++, arenas: true });
    // A burst of 12 (three arenas of 4 slots), then a steady 2 at a time, which the first arena serves.
    const burst = Array.from({ length: 12 }, () => pool.take());
    assert.equal(pool.arenaCount, 3);
    for (const b of burst) pool.give(b);
    for (let ms = 0; ms < 400; ms += 10) {
      const held = [pool.take(), pool.take()];
      assert.ok(
        held.every((b) => b.buffer === burst[0]!.buffer),
        'a steady take left the first arena',
      );
      advance(10);
      for (const b of held) pool.give(b);
    }
    assert.equal(pool.arenaCount, 1, 'arenas the steady takes never used were kept');
    // A slot out keeps its arena through an idle look; then, all back and idle, the arena goes.
    const out = pool.take();
    advance(250);
    assert.equal(pool.arenaCount, 1);
    assert.equal(idle, 1);
    pool.give(out);
    advance(250);
    assert.equal(pool.arenaCount, 0);
    // Called again: the arena it let go is for the collector to free.
    assert.equal(idle, 2);
  });

  test('streams on an arena pool read the right bytes into slots and hand them back by place', async () => {
    const pool = new SparePool(1000, 64, { arenas: true });
    const a = new FileReadStream(openSync(file, 'r'), 0, 5_000, 1000, pool);
    const b = new FileReadStream(openSync(file, 'r'), 5_000, 10_000, 1000, pool);
    const fromA: Buffer[] = [];
    const fromB: Buffer[] = [];
    const places = new Set<number>();
    const ia = a[Symbol.asyncIterator]();
    const ib = b[Symbol.asyncIterator]();
    // Both streams at once: their chunks live side by side in the same arena.
    for (;;) {
      const [x, y] = await Promise.all([ia.next(), ib.next()]);
      if (x.done && y.done) break;
      for (const [r, out] of [
        [x, fromA],
        [y, fromB],
      ] as const) {
        if (r.done) continue;
        const c = r.value as Buffer;
        assert.equal(c.buffer.byteLength, arenaBytes);
        places.add(c.byteOffset);
        out.push(Buffer.from(c));
      }
      if (!x.done) a.recycle(x.value as Buffer);
      if (!y.done) b.recycle(y.value as Buffer);
    }
    assert.deepEqual(Buffer.concat(fromA), bytes.subarray(0, 5_000));
    assert.deepEqual(Buffer.concat(fromB), bytes.subarray(5_000, 10_000));
    // Handed back as they went: a handful of slots served 10 chunks.
    assert.ok(places.size <= 4, `10 chunks used ${places.size} slots`);
  });

  test('an idle arena pool gives its memory back to the system once collected', () => {
    // In a child process of its own, so its RSS is this pool's doing alone.
    const r = runChildScript<Record<string, number | boolean>>(
      `import { readFileSync } from 'node:fs';
import { SparePool } from ${moduleSpecifier('./file-read-stream.ts', import.meta.url)};
const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
let idle = false;
const pool = new SparePool(1024 * 1024, 64, { idleMs: 50, onIdle: () => { idle = true; }, arenas: true });
const before = rss();
const lent = Array.from({ length: 48 }, () => pool.take());
for (const b of lent) b.fill(7);
const used = rss();
for (const b of lent) pool.give(b);
lent.length = 0;
setTimeout(() => {
  globalThis.gc();
  // V8 frees the memory of collected ArrayBuffers on a thread of its own, just after the collection.
  setTimeout(() => console.log(JSON.stringify({ before, used, after: rss(), idle })), 200);
}, 300);
`,
      { nodeFlags: ['--expose-gc'] },
    );
    const [before, used, after] = [r.before as number, r.used as number, r.after as number];
    assert.equal(r.idle, true);
    assert.ok(used - before >= 44, `48 MiB written raised RSS by ${used - before} MiB`);
    assert.ok(used - after >= 40, `RSS fell by ${used - after} MiB of 48 (${before} -> ${used} -> ${after})`);
  });
});
