import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { indexTarFile, tarEnd, tarHeaders, tarPadding } from './tar-file.js';
import { readTarEntries } from './tar-reader.js';

const entry = (name: string, body: string) => {
  const data = Buffer.from(body);
  return Buffer.concat([tarHeaders(name, data.length), data, Buffer.alloc(tarPadding(data.length))]);
};

test('writes ustar, prefix and pax names that GNU tar, readTarEntries and indexTarFile read alike', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tar-file-'));
  try {
    const short = 'blobs/sha256/abc';
    const prefixed = `repositories/${'a'.repeat(60)}/${'b'.repeat(60)}/index.json`;
    const pax = `repositories/${'c'.repeat(200)}/index.json`;
    const file = join(dir, 'x.tar');
    writeFileSync(
      file,
      Buffer.concat([
        entry(short, 'one'),
        entry(prefixed, 'two!'),
        entry(pax, 'three'),
        tarHeaders('repositories/app/blobs', 0, { type: '2', linkName: '../../blobs' }),
        tarEnd,
      ]),
    );
    const listed = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(listed, [short, prefixed, pax, 'repositories/app/blobs']);

    const { entries, validEnd } = await indexTarFile(file);
    assert.deepEqual(
      entries.map((e) => [e.name, e.type, e.size, e.linkName]),
      [
        [short, '0', 3, ''],
        [prefixed, '0', 4, ''],
        [pax, '0', 5, ''],
        ['repositories/app/blobs', '2', 0, '../../blobs'],
      ],
    );
    const bytes = readFileSync(file);
    const third = entries[2]!;
    assert.equal(bytes.subarray(third.offset, third.offset + third.size).toString(), 'three');
    assert.equal(validEnd, bytes.length - tarEnd.length);

    const streamed: string[] = [];
    for await (const e of readTarEntries(Readable.from([bytes]), { maxEntries: 10, maxFileBytes: 1024 }))
      streamed.push(e.name);
    assert.deepEqual(streamed, [short, prefixed, pax, 'repositories/app/blobs']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('indexTarFile stops before an entry cut short, so a writer resumes after the last whole one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tar-file-'));
  try {
    const first = entry('blobs/sha256/a', 'x'.repeat(700));
    const second = entry('blobs/sha256/b', 'y'.repeat(2000));
    const file = join(dir, 'torn.tar');
    writeFileSync(file, Buffer.concat([first, second.subarray(0, 1000)]));
    const { entries, validEnd } = await indexTarFile(file);
    assert.deepEqual(
      entries.map((e) => e.name),
      ['blobs/sha256/a'],
    );
    assert.equal(validEnd, first.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
