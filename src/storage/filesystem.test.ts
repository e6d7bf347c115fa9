import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import type { RecyclingReadable } from '../lib/recycling.js';
import { runDriverConformance } from './driver.conformance.js';
import { InvalidPathError } from './driver.js';
import { arenaBytes } from './file-read-stream.js';
import { FilesystemDriver } from './filesystem.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-fs-driver-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

runDriverConformance('filesystem', () => new FilesystemDriver({ root: join(tempDir(), 'root') }));

describe('filesystem driver', () => {
  test('reads of small files take pooled 128 KiB chunks: the memory of a finished read serves the next file', async () => {
    const d = new FilesystemDriver({ root: tempDir() });
    const sizes = [64 * 1024, 200 * 1024, 1024 * 1024];
    for (const [i, size] of sizes.entries()) await d.putContent(`f${i}`, Buffer.alloc(size, i + 1));
    const memory = new Set<string>();
    const arenas = new Set<ArrayBufferLike>();
    for (const [i, size] of sizes.entries()) {
      const body = await d.read(`f${i}`);
      const chunks: Buffer[] = [];
      for await (const chunk of body) {
        const c = chunk as Buffer;
        // Slots of 128 KiB in a shared arena (file-read-stream.ts), told apart by where they start.
        assert.ok(c.length <= 128 * 1024, `a ${size}-byte file read in chunks of ${c.length} bytes`);
        assert.equal(c.buffer.byteLength, arenaBytes);
        assert.equal(c.byteOffset % (128 * 1024), 0);
        arenas.add(c.buffer);
        memory.add(`${c.byteOffset}`);
        chunks.push(Buffer.from(c));
        (body as RecyclingReadable).recycle(c);
      }
      assert.deepEqual(Buffer.concat(chunks), Buffer.alloc(size, i + 1));
    }
    // One read ahead: two buffers at most, though 11 chunks went out.
    assert.ok(memory.size <= 2, `three files read into ${memory.size} buffers`);
    assert.equal(arenas.size, 1);
  });

  test('a failed write leaves no temporary file behind', async () => {
    const root = tempDir();
    const d = new FilesystemDriver({ root });
    await d.putContent('dir/existing', Buffer.from('x'));
    const source = Readable.from(
      (async function* () {
        yield Buffer.alloc(100_000, 1);
        throw new Error('client went away');
      })(),
    );
    await assert.rejects(d.write('dir/file', source), /client went away/);
    assert.deepEqual(await fs.readdir(join(root, 'dir')), ['existing']);
  });

  test('a recycling source is written whole, each chunk handed back once it is in the file, never far ahead', async () => {
    const d = new FilesystemDriver({ root: tempDir() });
    const chunk = 256 * 1024;
    const count = 48; // 12 MiB: several times what the write may hold queued
    const back = new Map<Buffer, number>();
    let produced = 0;
    let mostAhead = 0;
    const source = new Readable({
      objectMode: true,
      highWaterMark: 1,
      read() {
        if (produced === count) return void this.push(null);
        const c = Buffer.alloc(chunk, produced++ % 251);
        back.set(c, 0);
        // Chunks out and not yet handed back: what the write holds (queued or in flight).
        let out = 0;
        for (const n of back.values()) if (n === 0) out++;
        mostAhead = Math.max(mostAhead, out);
        this.push(c);
      },
    }) as Readable & RecyclingReadable;
    source.recycle = (c: Buffer) => void back.set(c, (back.get(c) ?? 0) + 1);
    assert.equal(await d.write('dir/blob', source), count * chunk);
    const bytes = await d.getContent('dir/blob');
    for (let i = 0; i < count; i++) assert.equal(bytes[i * chunk + 7], i % 251, `chunk ${i}`);
    assert.deepEqual([...new Set(back.values())], [1], 'every chunk handed back exactly once');
    assert.ok(mostAhead <= 24, `the write held ${mostAhead} chunks at once`);
  });

  test('a successful write leaves only the target file', async () => {
    const root = tempDir();
    const d = new FilesystemDriver({ root });
    await d.write('dir/file', Readable.from([Buffer.from('abc')]));
    await d.putContent('dir/small', Buffer.from('abc'));
    assert.deepEqual((await fs.readdir(join(root, 'dir'))).sort(), ['file', 'small']);
  });

  test('no path reaches outside the root', async () => {
    const base = tempDir();
    const root = join(base, 'root');
    const d = new FilesystemDriver({ root });
    await fs.writeFile(join(base, 'secret'), 'outside');
    for (const p of ['../secret', 'a/../../secret', '../root-sibling/file', '/etc/passwd', '..']) {
      await assert.rejects(d.getContent(p), InvalidPathError, p);
      await assert.rejects(d.putContent(p, Buffer.from('x')), InvalidPathError, p);
      await assert.rejects(d.delete(p), InvalidPathError, p);
    }
    assert.equal(await fs.readFile(join(base, 'secret'), 'utf8'), 'outside');
    assert.deepEqual((await fs.readdir(base)).sort(), ['secret']);
  });

  test('names that merely start with dots stay inside the root', async () => {
    const root = tempDir();
    const d = new FilesystemDriver({ root });
    await d.putContent('..a/...', Buffer.from('dots'));
    assert.equal(await fs.readFile(join(root, '..a', '...'), 'utf8'), 'dots');
    assert.equal((await d.getContent('..a/...')).toString(), 'dots');
  });

  test('bytes persist for a new driver over the same root', async () => {
    const root = tempDir();
    await new FilesystemDriver({ root }).append('up/data', Readable.from([Buffer.from('ab')]));
    const again = new FilesystemDriver({ root });
    await again.append('up/data', Readable.from([Buffer.from('cd')]));
    assert.equal((await again.getContent('up/data')).toString(), 'abcd');
  });
});
