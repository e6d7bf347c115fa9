import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { s3ServerAvailable, startS3Server, type RunningS3Server } from '../../test/helpers/s3-server.js';
import { runDriverConformance } from './driver.conformance.js';
import { PathNotFoundError } from './driver.js';
import { S3Driver } from './s3.js';
import { s3Options } from './s3-options.js';

const MiB = 1024 * 1024;
if (s3ServerAvailable('s3 driver')) {
  let server: RunningS3Server;
  let bucket: string;
  const drivers: S3Driver[] = [];
  const ready = (async () => {
    server = await startS3Server();
    bucket = await server.createBucket();
  })();
  before(() => ready);
  after(async () => {
    for (const d of drivers) d.close();
    await ready.catch(() => undefined);
    await server?.stop();
  });
  /** A driver over a fresh prefix of the shared bucket: every test starts empty. */
  const makeDriver = async (extra: Partial<Record<string, unknown>> = {}) => {
    await ready;
    const options = s3Options.parse({
      ...server.storageOptions(bucket),
      prefix: `t-${randomBytes(6).toString('hex')}`,
      ...extra,
    });
    const d = await S3Driver.open(options);
    drivers.push(d);
    return { d, options };
  };

  runDriverConformance('s3', async () => (await makeDriver()).d);

  describe('s3 driver', () => {
    test('appends of odd sizes fold their tails into 5 MiB parts and seal to the same sha256', async () => {
      const { d, options } = await makeDriver();
      const sizes = [1, 5 * MiB - 1, 5 * MiB + 1, 12 * MiB, 1, 3];
      const hash = createHash('sha256');
      let total = 0;
      for (const size of sizes) {
        const chunk = randomBytes(size);
        hash.update(chunk);
        total += size;
        assert.equal(await d.append('up/data', Readable.from(pieces(chunk, 64 * 1024))), size);
        assert.equal(await d.appendedSize('up/data'), total);
      }
      // Multipart parts hold all but a tail under 5 MiB; nothing is at the path itself yet.
      const keys = await keysOf(`${options.prefix}/up/`);
      assert.ok(
        keys.some((k) => k.includes('.multipart-')),
        keys.join(),
      );
      assert.equal(keys.filter((k) => k.includes('.tail-')).length, 1, keys.join());
      await assert.rejects(d.stat('up/data'), PathNotFoundError);
      await d.seal('up/data');
      assert.deepEqual(await keysOf(`${options.prefix}/up/`), [`${options.prefix}/up/data`]);
      assert.equal((await d.stat('up/data')).size, total);
      const read = createHash('sha256');
      for await (const c of await d.read('up/data')) read.update(c as Buffer);
      assert.equal(read.digest('hex'), hash.digest('hex'));
      assert.equal(await openUploads(), 0);
    });

    test('an append is continued by another driver instance (another process) over the same bucket', async () => {
      const { d, options } = await makeDriver();
      const a = randomBytes(6 * MiB);
      const b = randomBytes(2 * MiB);
      await d.append('moved/data', Readable.from([a]));
      const other = await S3Driver.open(options);
      drivers.push(other);
      assert.equal(await other.appendedSize('moved/data'), a.length);
      await other.append('moved/data', Readable.from([b]));
      await other.seal('moved/data');
      assert.ok((await d.getContent('moved/data')).equals(Buffer.concat([a, b])));
    });

    test('deleting an unsealed upload aborts its multipart upload', async () => {
      const { d } = await makeDriver();
      await d.append('uploads/x/data', Readable.from([randomBytes(6 * MiB)]));
      assert.equal(await openUploads(), 1);
      await d.delete('uploads/x');
      assert.equal(await openUploads(), 0);
      assert.equal(await d.appendedSize('uploads/x/data'), 0);
    });

    test('a write larger than one part is one object, invisible until complete', async () => {
      const { d } = await makeDriver();
      const data = randomBytes(17 * MiB);
      assert.equal(await d.write('big', Readable.from(pieces(data, MiB))), data.length);
      assert.ok((await d.getContent('big')).equals(data));
      assert.deepEqual(
        await collect(await d.read('big', { start: 9 * MiB, end: 9 * MiB + 9 })),
        data.subarray(9 * MiB, 9 * MiB + 10),
      );
    });

    test('list pages past 1000 keys and deleteMany deletes them in batches', async () => {
      const { d, options } = await makeDriver();
      const client = server.client();
      const names = Array.from({ length: 1010 }, (_, i) => `f${i}`);
      for (let i = 0; i < names.length; i += 50) {
        await Promise.all(
          names
            .slice(i, i + 50)
            .map((n) =>
              client.send(
                new PutObjectCommand({ Bucket: bucket, Key: `${options.prefix}/many/${n}`, Body: 'x' }),
              ),
            ),
        );
      }
      assert.equal((await d.list('many')).length, 1010);
      await d.deleteMany(['many']);
      assert.deepEqual(await d.list('many'), []);
    });

    test('a bad secret key is a clear error at open', async () => {
      await ready;
      const options = s3Options.parse({ ...server.storageOptions(bucket), secretAccessKey: 'wrong-secret' });
      await assert.rejects(
        S3Driver.open(options),
        /SignatureDoesNotMatch.*check storage\.s3\.accessKeyId and secretAccessKey/,
      );
    });

    test('a missing bucket is a clear error at open', async () => {
      await ready;
      const options = s3Options.parse({ ...server.storageOptions('no-such-bucket-here') });
      await assert.rejects(S3Driver.open(options), /NoSuchBucket.*create the bucket first/);
    });

    test('redirect gives a presigned URL that serves the bytes; off by default', async () => {
      const plain = await makeDriver();
      await plain.d.putContent('blob', Buffer.from('presigned bytes'));
      assert.equal(plain.d.redirectUrl, undefined);
      const { d } = await makeDriver({ redirect: true });
      await d.putContent('blob', Buffer.from('presigned bytes'));
      const url = await d.redirectUrl?.('blob', 60);
      assert.ok(url?.startsWith(server.endpoint), url);
      const res = await fetch(url!);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'presigned bytes');
      assert.equal(
        (await fetch(url!.replace(/X-Amz-Signature=[0-9a-f]+/, 'X-Amz-Signature=00'))).status,
        403,
      );
    });
  });

  async function keysOf(prefix: string): Promise<string[]> {
    const res = await server.client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (res.Contents ?? []).map((o) => o.Key!).sort();
  }

  async function openUploads(): Promise<number> {
    const res = await server.client().send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    return res.Uploads?.length ?? 0;
  }
}

function* pieces(data: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}
