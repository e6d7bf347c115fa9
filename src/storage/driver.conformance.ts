import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, test } from 'node:test';
import { InvalidPathError, PathNotFoundError, type StorageDriver } from './driver.js';

/**
 * The one behaviour suite every StorageDriver passes. A driver's test file calls
 * `runDriverConformance('name', () => new XDriver(...))`; `makeDriver` is called once per test and must
 * return an empty driver.
 */
export function runDriverConformance(
  name: string,
  makeDriver: () => StorageDriver | Promise<StorageDriver>,
): void {
  describe(`${name} driver conformance`, () => {
    let d: StorageDriver;
    beforeEach(async () => {
      d = await makeDriver();
    });

    test('stat of a missing file throws PathNotFoundError', async () => {
      await assert.rejects(d.stat('nothing/here'), PathNotFoundError);
    });

    test('write then stat, read and getContent return the bytes', async () => {
      const data = Buffer.from('hello, berth');
      assert.equal(await d.write('a/b/file', Readable.from([data])), data.length);
      const info = await d.stat('a/b/file');
      assert.equal(info.size, data.length);
      assert.equal(info.isDirectory, false);
      assert.ok(info.modified instanceof Date && Math.abs(info.modified.getTime() - Date.now()) < 60_000);
      assert.deepEqual(await collect(await d.read('a/b/file')), data);
      assert.deepEqual(await d.getContent('a/b/file'), data);
    });

    test('stat of a folder reports a directory', async () => {
      await d.putContent('dir/sub/file', Buffer.from('x'));
      assert.equal((await d.stat('dir')).isDirectory, true);
      assert.equal((await d.stat('dir/sub')).isDirectory, true);
    });

    test('an empty file round-trips', async () => {
      assert.equal(await d.write('empty', Readable.from([])), 0);
      assert.equal((await d.stat('empty')).size, 0);
      assert.deepEqual(await collect(await d.read('empty')), Buffer.alloc(0));
    });

    test('read of a missing file throws PathNotFoundError before any stream exists', async () => {
      await assert.rejects(d.read('missing'), PathNotFoundError);
      await assert.rejects(d.getContent('missing'), PathNotFoundError);
    });

    test('read with a range returns the inclusive byte range', async () => {
      const data = Buffer.from('0123456789');
      await d.putContent('r', data);
      assert.equal((await collect(await d.read('r', { start: 2, end: 5 }))).toString(), '2345');
      assert.equal((await collect(await d.read('r', { start: 7 }))).toString(), '789');
      assert.equal((await collect(await d.read('r', { start: 0, end: 0 }))).toString(), '0');
      assert.equal((await collect(await d.read('r', { start: 9, end: 9 }))).toString(), '9');
      assert.equal((await collect(await d.read('r', { start: 8, end: 100 }))).toString(), '89');
    });

    test('write replaces an existing file', async () => {
      await d.putContent('f', Buffer.from('old content, longer'));
      await d.write('f', Readable.from([Buffer.from('new')]));
      assert.equal((await d.getContent('f')).toString(), 'new');
    });

    test('write is atomic: until it completes, readers see nothing at a new path', async () => {
      const source = new PassThrough();
      const writing = d.write('atomic/file', source);
      source.write(Buffer.alloc(64 * 1024, 1));
      await sleep(30);
      await assert.rejects(d.stat('atomic/file'), PathNotFoundError);
      await assert.rejects(d.read('atomic/file'), PathNotFoundError);
      await assert.rejects(d.getContent('atomic/file'), PathNotFoundError);
      assert.deepEqual(await d.list('atomic'), []);
      source.end(Buffer.alloc(64 * 1024, 2));
      assert.equal(await writing, 128 * 1024);
      assert.equal((await d.stat('atomic/file')).size, 128 * 1024);
      assert.deepEqual(await d.list('atomic'), ['file']);
    });

    test('write is atomic: until it completes, readers see the whole old file', async () => {
      const old = Buffer.from('the old bytes');
      await d.putContent('f', old);
      const source = new PassThrough();
      const writing = d.write('f', source);
      source.write(Buffer.alloc(1000, 7));
      await sleep(30);
      assert.equal((await d.stat('f')).size, old.length);
      assert.deepEqual(await d.getContent('f'), old);
      source.end();
      await writing;
      assert.deepEqual(await d.getContent('f'), Buffer.alloc(1000, 7));
    });

    test('two concurrent writes to one path leave one of them whole', async () => {
      const a = Buffer.alloc(200_000, 'a');
      const b = Buffer.alloc(300_000, 'b');
      await Promise.all([d.write('race', chunked(a, 10)), d.write('race', chunked(b, 10))]);
      const got = await d.getContent('race');
      assert.ok(got.equals(a) || got.equals(b), `mixed content of ${got.length} bytes`);
    });

    test('a write whose source fails midway leaves no file', async () => {
      const source = failingStream([Buffer.from('partial '), Buffer.from('data')]);
      await assert.rejects(d.write('broken/file', source), /source broke/);
      await assert.rejects(d.stat('broken/file'), PathNotFoundError);
      assert.deepEqual(await d.list('broken'), []);
    });

    test('a write whose source fails before any byte leaves no file', async () => {
      await assert.rejects(d.write('broken/early', failingStream([])), /source broke/);
      await assert.rejects(d.stat('broken/early'), PathNotFoundError);
    });

    test('a failed write over an existing file keeps the old bytes', async () => {
      await d.putContent('keep', Buffer.from('original'));
      await assert.rejects(d.write('keep', failingStream([Buffer.from('xx')])), /source broke/);
      assert.equal((await d.getContent('keep')).toString(), 'original');
    });

    test('append adds to the end; seal makes the bytes a file', async () => {
      assert.equal(await d.appendedSize('up/data'), 0);
      assert.equal(await d.append('up/data', Readable.from([Buffer.from('abc')])), 3);
      assert.equal(await d.append('up/data', Readable.from([Buffer.from('defg')])), 4);
      assert.equal(await d.append('up/data', Readable.from([])), 0);
      assert.equal(await d.appendedSize('up/data'), 7);
      await d.seal('up/data');
      assert.equal((await d.stat('up/data')).size, 7);
      assert.equal((await d.getContent('up/data')).toString(), 'abcdefg');
      assert.equal((await collect(await d.read('up/data', { start: 3 }))).toString(), 'defg');
      await d.move('up/data', 'done/file');
      assert.equal((await d.getContent('done/file')).toString(), 'abcdefg');
    });

    test('seal with nothing appended makes an empty file', async () => {
      await d.seal('up/empty');
      assert.equal((await d.stat('up/empty')).size, 0);
    });

    test('deleting the folder of an append file forgets it', async () => {
      await d.append('gone/data', Readable.from([Buffer.from('abc')]));
      await d.delete('gone');
      assert.equal(await d.appendedSize('gone/data'), 0);
      assert.deepEqual(await d.list('gone'), []);
    });

    test('deleteMany removes files and folders and skips missing ones', async () => {
      await d.putContent('many/a/data', Buffer.from('1'));
      await d.putContent('many/b/data', Buffer.from('2'));
      await d.putContent('many/c', Buffer.from('3'));
      await d.putContent('many/keep', Buffer.from('4'));
      await d.putContent('many/d/data', Buffer.from('5'));
      await d.putContent('many/d/other', Buffer.from('6'));
      await d.deleteMany(['many/a', 'many/c', 'many/missing', 'many/b/data', 'many/d/data']);
      await assert.rejects(d.stat('many/b/data'), PathNotFoundError);
      // b's only file went, so b went too; d still holds a file.
      assert.deepEqual((await d.list('many')).sort(), ['d', 'keep']);
      assert.deepEqual(await d.list('many/d'), ['other']);
      await d.deleteMany([]);
    });

    test('putContent and getContent round-trip and replace', async () => {
      await d.putContent('p/q', Buffer.from('one'));
      await d.putContent('p/q', Buffer.from('two!'));
      assert.equal((await d.getContent('p/q')).toString(), 'two!');
      assert.equal((await d.stat('p/q')).size, 4);
    });

    test('stageContent: the whole file is there before durable settles, and replaces', async () => {
      const staged = await d.stageContent('s/new/data', Buffer.from('staged bytes'));
      assert.equal((await d.getContent('s/new/data')).toString(), 'staged bytes');
      assert.deepEqual(await d.list('s/new'), ['data']);
      await staged.durable;
      await (
        await d.stageContent('s/new/data', Buffer.from('again'))
      ).durable;
      assert.equal((await d.getContent('s/new/data')).toString(), 'again');
    });

    test('getContent returns a copy the caller may change', async () => {
      await d.putContent('c', Buffer.from('abc'));
      const got = await d.getContent('c');
      got.fill(0);
      assert.equal((await d.getContent('c')).toString(), 'abc');
    });

    test('move renames a file into a new folder', async () => {
      await d.putContent('from/file', Buffer.from('moved'));
      await d.move('from/file', 'to/deep/file');
      assert.equal((await d.getContent('to/deep/file')).toString(), 'moved');
      await assert.rejects(d.stat('from/file'), PathNotFoundError);
    });

    test('move replaces the target', async () => {
      await d.putContent('src', Buffer.from('new'));
      await d.putContent('dst', Buffer.from('old and longer'));
      await d.move('src', 'dst');
      assert.equal((await d.getContent('dst')).toString(), 'new');
      await assert.rejects(d.stat('src'), PathNotFoundError);
    });

    test('move of a missing file throws PathNotFoundError and creates nothing', async () => {
      await assert.rejects(d.move('missing', 'target/file'), PathNotFoundError);
      await assert.rejects(d.stat('target/file'), PathNotFoundError);
    });

    test('delete removes a file', async () => {
      await d.putContent('del/file', Buffer.from('x'));
      await d.putContent('del/other', Buffer.from('y'));
      await d.delete('del/file');
      await assert.rejects(d.stat('del/file'), PathNotFoundError);
      assert.deepEqual(await d.list('del'), ['other']);
    });

    test('delete removes a whole folder and nothing beside it', async () => {
      await d.putContent('tree/a/one', Buffer.from('1'));
      await d.putContent('tree/a/sub/two', Buffer.from('2'));
      await d.putContent('tree/ab', Buffer.from('sibling with a shared prefix'));
      await d.delete('tree/a');
      await assert.rejects(d.stat('tree/a/one'), PathNotFoundError);
      await assert.rejects(d.stat('tree/a/sub/two'), PathNotFoundError);
      await assert.rejects(d.stat('tree/a'), PathNotFoundError);
      assert.deepEqual(await d.list('tree/a'), []);
      assert.equal((await d.getContent('tree/ab')).toString(), 'sibling with a shared prefix');
    });

    test('delete of a missing path throws PathNotFoundError', async () => {
      await assert.rejects(d.delete('missing'), PathNotFoundError);
      await d.putContent('file', Buffer.from('x'));
      await assert.rejects(d.delete('file/under-a-file'), PathNotFoundError);
    });

    test('list names the direct children of a folder, files and folders alike', async () => {
      await d.putContent('l/x', Buffer.from('1'));
      await d.putContent('l/y/z', Buffer.from('2'));
      await d.putContent('l/y/w', Buffer.from('3'));
      await d.putContent('lz', Buffer.from('not a child'));
      assert.deepEqual((await d.list('l')).sort(), ['x', 'y']);
      assert.deepEqual((await d.list('l/y')).sort(), ['w', 'z']);
    });

    test('list of a missing folder is empty', async () => {
      assert.deepEqual(await d.list('no/such/folder'), []);
    });

    test('every method rejects unsafe paths with InvalidPathError', async () => {
      await d.putContent('ok', Buffer.from('x'));
      const bad = [
        '',
        '/abs',
        '/',
        'a/../b',
        '..',
        '../up',
        'a/..',
        'a//b',
        'a/',
        './a',
        'a/./b',
        'a\\b',
        'a\0b',
      ];
      for (const p of bad) {
        const label = JSON.stringify(p);
        await assert.rejects(d.stat(p), InvalidPathError, `stat ${label}`);
        await assert.rejects(d.read(p), InvalidPathError, `read ${label}`);
        await assert.rejects(
          d.write(p, Readable.from([Buffer.from('x')])),
          InvalidPathError,
          `write ${label}`,
        );
        await assert.rejects(d.putContent(p, Buffer.from('x')), InvalidPathError, `putContent ${label}`);
        await assert.rejects(d.getContent(p), InvalidPathError, `getContent ${label}`);
        await assert.rejects(d.move(p, 'elsewhere'), InvalidPathError, `move from ${label}`);
        await assert.rejects(d.move('ok', p), InvalidPathError, `move to ${label}`);
        await assert.rejects(d.delete(p), InvalidPathError, `delete ${label}`);
        await assert.rejects(d.list(p), InvalidPathError, `list ${label}`);
        await assert.rejects(d.append(p, Readable.from([])), InvalidPathError, `append ${label}`);
        await assert.rejects(d.appendedSize(p), InvalidPathError, `appendedSize ${label}`);
        await assert.rejects(d.seal(p), InvalidPathError, `seal ${label}`);
        await assert.rejects(d.deleteMany(['ok', p]), InvalidPathError, `deleteMany ${label}`);
      }
      assert.equal((await d.getContent('ok')).toString(), 'x');
    });

    test('a 64 MiB streamed write round-trips with the same sha256', async () => {
      const chunk = 1024 * 1024;
      const count = 64;
      const written = createHash('sha256');
      const source = Readable.from(
        (function* () {
          for (let i = 0; i < count; i++) {
            const buf = Buffer.alloc(chunk, i);
            buf.writeUInt32BE((i * 2654435761) >>> 0, 0);
            written.update(buf);
            yield buf;
          }
        })(),
      );
      assert.equal(await d.write('big/blob', source), chunk * count);
      assert.equal((await d.stat('big/blob')).size, chunk * count);
      const read = createHash('sha256');
      let size = 0;
      for await (const part of await d.read('big/blob')) {
        read.update(part as Buffer);
        size += (part as Buffer).length;
      }
      assert.equal(size, chunk * count);
      assert.equal(read.digest('hex'), written.digest('hex'));
    });
  });
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** A stream of `data` in `parts` pieces, yielding to the event loop between them. */
function chunked(data: Buffer, parts: number): Readable {
  const size = Math.ceil(data.length / parts);
  return Readable.from(
    (async function* () {
      for (let i = 0; i < data.length; i += size) {
        await sleep(1);
        yield data.subarray(i, i + size);
      }
    })(),
  );
}

/** Emits `chunks`, then fails as a dropped client connection would. */
function failingStream(chunks: Buffer[]): Readable {
  return Readable.from(
    (async function* () {
      for (const c of chunks) {
        yield c;
        await sleep(5);
      }
      throw new Error('source broke');
    })(),
  );
}
