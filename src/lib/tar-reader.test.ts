import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { tarArchive, tarHeader } from '../../test/helpers/images.js';
import { gunzipBounded } from './bounded-gunzip.js';
import { ContentBoundError } from './bounded-json.js';
import { readTarFiles } from './tar-reader.js';

const bounds = { maxOutputBytes: 1024 * 1024, timeoutMs: 5000, maxEntries: 100, maxFileBytes: 64 * 1024 };
const bound = (name: ContentBoundError['bound']) => (err: unknown) =>
  err instanceof ContentBoundError && err.bound === name;

function read(gz: Buffer, keep = (_n: string) => true, chunk = 7) {
  // Small chunks, so headers and bodies straddle chunk boundaries.
  const parts: Buffer[] = [];
  for (let i = 0; i < gz.length; i += chunk) parts.push(gz.subarray(i, i + chunk));
  return readTarFiles(gunzipBounded(Readable.from(parts), bounds), keep, bounds);
}

test('keeps the selected files of a gzipped tar, skipping the others', async () => {
  const gz = gzipSync(
    tarArchive([
      { path: 'c/Chart.yaml', content: 'name: c\n' },
      { path: 'c/templates/big.yaml', content: 'x'.repeat(10_000) },
      { path: 'c/values.yaml', content: 'a: 1\n' },
    ]),
  );
  const files = await read(gz, (n) => !n.includes('templates'));
  assert.deepEqual(
    [...files].map(([k, v]) => [k, v.toString()]),
    [
      ['c/Chart.yaml', 'name: c\n'],
      ['c/values.yaml', 'a: 1\n'],
    ],
  );
});

test('input that is not gzip, not tar, a bomb or a file over the bound ends in ContentBoundError', async () => {
  await assert.rejects(read(Buffer.from('plain text, not gzip')), bound('format'));
  await assert.rejects(read(gzipSync(Buffer.alloc(2048, 0x41))), bound('format'));
  const bomb = gzipSync(
    Buffer.concat([tarHeader('c/x', 8 * 1024 * 1024, 0o644), Buffer.alloc(8 * 1024 * 1024)]),
  );
  await assert.rejects(
    read(bomb, () => false, 4096),
    bound('decompressed'),
  );
  const large = gzipSync(tarArchive([{ path: 'c/values.yaml', content: 'v'.repeat(100_000) }]));
  await assert.rejects(read(large), bound('size'));
});

test('stopping early closes the source stream', async () => {
  const gz = gzipSync(
    tarArchive([
      { path: 'a', content: '1' },
      { path: 'b', content: '2' },
    ]),
  );
  const source = Readable.from([gz]);
  const files = await readTarFiles(
    gunzipBounded(source, bounds),
    () => true,
    bounds,
    (k) => k.size === 1,
  );
  assert.equal(files.size, 1);
  assert.equal(source.destroyed, true);
});
