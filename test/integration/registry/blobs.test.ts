import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../../helpers/berth.js';
import {
  assertOciError,
  digestOf,
  makeImage,
  randomBlob,
  uniqueRepo,
  useBerth,
} from '../../helpers/registry-client.js';

const missingDigest = digestOf('never pushed');

for (const backend of backends()) {
  describe(`blobs: HEAD, GET, ranges, DELETE [${backend}]`, () => {
    const fx = useBerth(backend);

    test('HEAD answers 200 with Docker-Content-Digest and Content-Length, and no body', async () => {
      const repo = uniqueRepo();
      const blob = randomBlob(3000);
      await fx.client.pushBlob(repo, blob);
      const res = await fx.client.fetch(`/v2/${repo}/blobs/${blob.digest}`, { method: 'HEAD' });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), blob.digest);
      assert.equal(res.headers.get('content-length'), '3000');
      assert.equal((await res.arrayBuffer()).byteLength, 0);
    });

    test('GET returns the exact bytes with Docker-Content-Digest and Content-Length', async () => {
      const repo = uniqueRepo();
      const blob = randomBlob(200_000);
      await fx.client.pushBlob(repo, blob);
      const res = await fx.client.fetch(`/v2/${repo}/blobs/${blob.digest}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), blob.digest);
      assert.equal(res.headers.get('content-length'), '200000');
      assert.equal(res.headers.get('accept-ranges'), 'bytes');
      const got = Buffer.from(await res.arrayBuffer());
      assert.equal(digestOf(got), blob.digest);
    });

    test('a zero-byte blob can be pushed and read back', async () => {
      const repo = uniqueRepo();
      const blob = randomBlob(0);
      await fx.client.pushBlob(repo, blob);
      const res = await fx.client.fetch(`/v2/${repo}/blobs/${blob.digest}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-length'), '0');
      assert.equal((await res.arrayBuffer()).byteLength, 0);
    });

    test('a blob is visible in every repository of its project, not in another project', async () => {
      const repo = uniqueRepo('one');
      const sibling = repo.replace(/\/one$/, '/two');
      const blob = randomBlob(100);
      await fx.client.pushBlob(repo, blob);
      const same = await fx.client.fetch(`/v2/${sibling}/blobs/${blob.digest}`, { method: 'HEAD' });
      assert.equal(same.status, 200);
      const other = uniqueRepo();
      await fx.client.pushBlob(other, randomBlob(10));
      const res = await fx.client.fetch(`/v2/${other}/blobs/${blob.digest}`);
      await assertOciError(res, 404, 'BLOB_UNKNOWN');
    });

    test('Range requests answer 206 with Content-Range and exactly the asked bytes', async () => {
      const repo = uniqueRepo();
      const blob = randomBlob(10_000);
      await fx.client.pushBlob(repo, blob);
      const cases: [string, number, number][] = [
        ['bytes=0-99', 0, 99],
        ['bytes=100-', 100, 9999],
        ['bytes=9999-9999', 9999, 9999],
        ['bytes=5000-20000', 5000, 9999],
      ];
      for (const [range, start, end] of cases) {
        const res = await fx.client.fetch(`/v2/${repo}/blobs/${blob.digest}`, { headers: { range } });
        assert.equal(res.status, 206, range);
        assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/10000`, range);
        assert.equal(res.headers.get('content-length'), String(end - start + 1), range);
        assert.equal(res.headers.get('docker-content-digest'), blob.digest);
        const got = Buffer.from(await res.arrayBuffer());
        assert.deepEqual(got, blob.bytes.subarray(start, end + 1), range);
      }
    });

    test('a Range starting beyond the end answers 416 with the blob size', async () => {
      const repo = uniqueRepo();
      const blob = randomBlob(500);
      await fx.client.pushBlob(repo, blob);
      for (const range of ['bytes=500-', 'bytes=1000-2000', 'bytes=20-10']) {
        const res = await fx.client.fetch(`/v2/${repo}/blobs/${blob.digest}`, { headers: { range } });
        await assertOciError(res, 416, 'RANGE_INVALID');
        assert.equal(res.headers.get('content-range'), 'bytes */500', range);
      }
    });

    test('HEAD and GET of an unknown blob answer 404 BLOB_UNKNOWN', async () => {
      const repo = uniqueRepo();
      await fx.client.pushBlob(repo, randomBlob(10));
      const head = await fx.client.fetch(`/v2/${repo}/blobs/${missingDigest}`, { method: 'HEAD' });
      assert.equal(head.status, 404);
      assert.equal((await head.arrayBuffer()).byteLength, 0, 'HEAD has no body');
      const get = await fx.client.fetch(`/v2/${repo}/blobs/${missingDigest}`);
      const getLength = Buffer.byteLength(await get.clone().text());
      // HEAD announces the length of the body GET would send (RFC 9110 §9.3.2).
      assert.equal(head.headers.get('content-length'), String(getLength));
      assert.equal(get.headers.get('content-length'), String(getLength));
      await assertOciError(get, 404, 'BLOB_UNKNOWN');
    });

    test('a blob in an unknown repository answers 404', async () => {
      const res = await fx.client.fetch(`/v2/nosuchproject/x/blobs/${missingDigest}`);
      await assertOciError(res, 404, 'NAME_UNKNOWN', 'BLOB_UNKNOWN');
    });

    test('a malformed digest answers 400 DIGEST_INVALID', async () => {
      const repo = uniqueRepo();
      await fx.client.pushBlob(repo, randomBlob(10));
      for (const bad of ['sha256:abc', 'md5:' + 'a'.repeat(32), 'sha256:' + 'G'.repeat(64), 'nodigest']) {
        const res = await fx.client.fetch(`/v2/${repo}/blobs/${bad}`);
        await assertOciError(res, 400, 'DIGEST_INVALID');
      }
    });

    test('DELETE answers 202, then the blob is 404 BLOB_UNKNOWN', async () => {
      const repo = uniqueRepo();
      const blob = randomBlob(1234);
      await fx.client.pushBlob(repo, blob);
      const del = await fx.client.fetch(`/v2/${repo}/blobs/${blob.digest}`, { method: 'DELETE' });
      await del.body?.cancel();
      assert.equal(del.status, 202);
      const head = await fx.client.fetch(`/v2/${repo}/blobs/${blob.digest}`, { method: 'HEAD' });
      assert.equal(head.status, 404);
      const get = await fx.client.fetch(`/v2/${repo}/blobs/${blob.digest}`);
      await assertOciError(get, 404, 'BLOB_UNKNOWN');
      const again = await fx.client.fetch(`/v2/${repo}/blobs/${blob.digest}`, { method: 'DELETE' });
      await assertOciError(again, 404, 'BLOB_UNKNOWN');
    });

    test('a deleted blob can be pushed again', async () => {
      const repo = uniqueRepo();
      const blob = randomBlob(77);
      await fx.client.pushBlob(repo, blob);
      const del = await fx.client.fetch(`/v2/${repo}/blobs/${blob.digest}`, { method: 'DELETE' });
      assert.equal(del.status, 202);
      await fx.client.pushBlob(repo, blob);
      const res = await fx.client.fetch(`/v2/${repo}/blobs/${blob.digest}`);
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), blob.bytes);
    });

    test('DELETE is refused with 403 DENIED while a manifest references the blob', async () => {
      const repo = uniqueRepo();
      const image = makeImage();
      await fx.client.pushImage(repo, image, 'v1');
      const layer = image.blobs[1]!;
      const res = await fx.client.fetch(`/v2/${repo}/blobs/${layer.digest}`, { method: 'DELETE' });
      await assertOciError(res, 403, 'DENIED');
      const still = await fx.client.fetch(`/v2/${repo}/blobs/${layer.digest}`);
      assert.equal(still.status, 200);
      assert.deepEqual(Buffer.from(await still.arrayBuffer()), layer.bytes);

      const delManifest = await fx.client.fetch(`/v2/${repo}/manifests/${image.digest}`, {
        method: 'DELETE',
      });
      assert.equal(delManifest.status, 202);
      // As in Harbor, deleting the last artifact that holds a blob takes it out of the project at once
      // (its quota usage drops); the blob is then unknown there, and GC reclaims the bytes.
      const head = await fx.client.fetch(`/v2/${repo}/blobs/${layer.digest}`, { method: 'HEAD' });
      assert.equal(head.status, 404);
      const now = await fx.client.fetch(`/v2/${repo}/blobs/${layer.digest}`, { method: 'DELETE' });
      await assertOciError(now, 404, 'BLOB_UNKNOWN');
    });
  });
}
