import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { backends } from '../../helpers/berth.js';
import {
  assertOciError,
  blobOf,
  body,
  digestOf,
  makeImage,
  randomBlob,
  uniqueRepo,
  useBerth,
  type RegistryClient,
} from '../../helpers/registry-client.js';

const uuidRe = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function patch(client: RegistryClient, location: string, bytes: Buffer, range?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (range) headers['content-range'] = range;
  return client.fetch(location, { method: 'PATCH', headers, body: body(bytes) });
}

async function downloads(client: RegistryClient, repo: string, blob: { digest: string; bytes: Buffer }) {
  const res = await client.fetch(`/v2/${repo}/blobs/${blob.digest}`);
  assert.equal(res.status, 200, `GET blob ${blob.digest}`);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), blob.bytes);
}

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

for (const backend of backends()) {
  describe(`blob uploads [${backend}]`, () => {
    const fx = useBerth(backend);

    test('POST ?digest= with the whole blob answers 201 with Location and Docker-Content-Digest', async () => {
      const repo = uniqueRepo();
      const blob = randomBlob(5000);
      const res = await fx.client.fetch(`/v2/${repo}/blobs/uploads/?digest=${blob.digest}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: body(blob.bytes),
      });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('location'), `/v2/${repo}/blobs/${blob.digest}`);
      assert.equal(res.headers.get('docker-content-digest'), blob.digest);
      await downloads(fx.client, repo, blob);
    });

    test('POST ?digest= with bytes that do not match answers 400 DIGEST_INVALID and stores nothing', async () => {
      const repo = uniqueRepo();
      const claimed = randomBlob(100);
      const res = await fx.client.fetch(`/v2/${repo}/blobs/uploads/?digest=${claimed.digest}`, {
        method: 'POST',
        body: body(randomBytes(100)),
      });
      await assertOciError(res, 400, 'DIGEST_INVALID');
      const head = await fx.client.fetch(`/v2/${repo}/blobs/${claimed.digest}`, { method: 'HEAD' });
      assert.equal(head.status, 404);
    });

    test('POST ?digest= with a malformed digest answers 400 DIGEST_INVALID', async () => {
      const repo = uniqueRepo();
      const res = await fx.client.fetch(`/v2/${repo}/blobs/uploads/?digest=sha256:nothex`, {
        method: 'POST',
        body: body(randomBytes(10)),
      });
      await assertOciError(res, 400, 'DIGEST_INVALID');
    });

    test('POST opens a session: 202 with Location, Range 0-0 and Docker-Upload-UUID', async () => {
      const repo = uniqueRepo();
      const res = await fx.client.fetch(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
      assert.equal(res.status, 202);
      const uuid = res.headers.get('docker-upload-uuid');
      assert.match(uuid ?? '', uuidRe);
      assert.equal(res.headers.get('location'), `/v2/${repo}/blobs/uploads/${uuid}`);
      assert.equal(res.headers.get('range'), '0-0');
    });

    test('PATCH chunks without Content-Range (streamed) then PUT ?digest= answers 201', async () => {
      const repo = uniqueRepo();
      const blob = randomBlob(300_000);
      let location = await fx.client.startUpload(repo);
      const parts = [blob.bytes.subarray(0, 100_000), blob.bytes.subarray(100_000)];
      let received = 0;
      for (const part of parts) {
        const res = await patch(fx.client, location, Buffer.from(part));
        assert.equal(res.status, 202);
        received += part.length;
        assert.equal(res.headers.get('range'), `0-${received - 1}`);
        location = res.headers.get('location')!;
        assert.ok(location);
      }
      const put = await fx.client.fetch(withDigest(location, blob.digest), { method: 'PUT' });
      assert.equal(put.status, 201);
      assert.equal(put.headers.get('location'), `/v2/${repo}/blobs/${blob.digest}`);
      assert.equal(put.headers.get('docker-content-digest'), blob.digest);
      await downloads(fx.client, repo, blob);
    });

    test('PATCH with Content-Range in order, and a final chunk in the PUT body', async () => {
      const repo = uniqueRepo();
      const blob = randomBlob(30_000);
      let location = await fx.client.startUpload(repo);
      for (const [start, end] of [
        [0, 9999],
        [10_000, 19_999],
      ] as const) {
        const res = await patch(
          fx.client,
          location,
          Buffer.from(blob.bytes.subarray(start, end + 1)),
          `${start}-${end}`,
        );
        assert.equal(res.status, 202);
        assert.equal(res.headers.get('range'), `0-${end}`);
        location = res.headers.get('location')!;
      }
      const put = await fx.client.fetch(withDigest(location, blob.digest), {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-range': '20000-29999' },
        body: body(blob.bytes.subarray(20_000)),
      });
      assert.equal(put.status, 201, await put.clone().text());
      await downloads(fx.client, repo, blob);
    });

    test('an out-of-order chunk answers 416 with the current Range, and the session goes on', async () => {
      const repo = uniqueRepo();
      const blob = randomBlob(2000);
      const location = await fx.client.startUpload(repo);
      const first = await patch(fx.client, location, blob.bytes.subarray(0, 1000), '0-999');
      assert.equal(first.status, 202);
      const skip = await patch(fx.client, location, blob.bytes.subarray(1500), '1500-1999');
      await assertOciError(skip, 416, 'RANGE_INVALID');
      assert.equal(skip.headers.get('range'), '0-999');
      const replay = await patch(fx.client, location, blob.bytes.subarray(0, 1000), '0-999');
      await assertOciError(replay, 416, 'RANGE_INVALID');

      const status = await fx.client.fetch(location);
      assert.equal(status.headers.get('range'), '0-999', 'rejected chunks left nothing behind');
      const rest = await patch(fx.client, location, blob.bytes.subarray(1000), '1000-1999');
      assert.equal(rest.status, 202);
      const put = await fx.client.fetch(withDigest(location, blob.digest), { method: 'PUT' });
      assert.equal(put.status, 201);
      await downloads(fx.client, repo, blob);
    });

    test('GET on a session answers 204 with Range 0-N and Docker-Upload-UUID', async () => {
      const repo = uniqueRepo();
      const location = await fx.client.startUpload(repo);
      const res = await patch(fx.client, location, randomBytes(4321));
      assert.equal(res.status, 202);
      const status = await fx.client.fetch(location);
      assert.equal(status.status, 204);
      assert.equal(status.headers.get('range'), '0-4320');
      assert.equal(status.headers.get('location'), location);
      assert.equal(status.headers.get('docker-upload-uuid'), location.split('/').at(-1));
    });

    test('PUT with a digest that does not match answers 400 DIGEST_INVALID and no blob appears', async () => {
      const repo = uniqueRepo();
      const location = await fx.client.startUpload(repo);
      await patch(fx.client, location, randomBytes(100));
      const wrong = digestOf('something else');
      const put = await fx.client.fetch(withDigest(location, wrong), { method: 'PUT' });
      await assertOciError(put, 400, 'DIGEST_INVALID');
      const head = await fx.client.fetch(`/v2/${repo}/blobs/${wrong}`, { method: 'HEAD' });
      assert.equal(head.status, 404);
    });

    test('PUT without ?digest= answers 400 DIGEST_INVALID', async () => {
      const repo = uniqueRepo();
      const location = await fx.client.startUpload(repo);
      const put = await fx.client.fetch(location, { method: 'PUT' });
      await assertOciError(put, 400, 'DIGEST_INVALID');
    });

    test('DELETE cancels a session: 204, then 404 BLOB_UPLOAD_UNKNOWN', async () => {
      const repo = uniqueRepo();
      const location = await fx.client.startUpload(repo);
      await patch(fx.client, location, randomBytes(100));
      const del = await fx.client.fetch(location, { method: 'DELETE' });
      assert.equal(del.status, 204);
      await assertOciError(await fx.client.fetch(location), 404, 'BLOB_UPLOAD_UNKNOWN');
      await assertOciError(await patch(fx.client, location, randomBytes(10)), 404, 'BLOB_UPLOAD_UNKNOWN');
      await assertOciError(
        await fx.client.fetch(withDigest(location, digestOf('x')), { method: 'PUT' }),
        404,
        'BLOB_UPLOAD_UNKNOWN',
      );
      await assertOciError(await fx.client.fetch(location, { method: 'DELETE' }), 404, 'BLOB_UPLOAD_UNKNOWN');
    });

    test('a finished session is gone: 404 BLOB_UPLOAD_UNKNOWN', async () => {
      const repo = uniqueRepo();
      const blob = randomBlob(10);
      const location = await fx.client.startUpload(repo);
      const put = await fx.client.fetch(withDigest(location, blob.digest), {
        method: 'PUT',
        body: body(blob.bytes),
      });
      assert.equal(put.status, 201);
      await assertOciError(await fx.client.fetch(location), 404, 'BLOB_UPLOAD_UNKNOWN');
    });

    test('unknown or malformed session ids answer 404 BLOB_UPLOAD_UNKNOWN', async () => {
      const repo = uniqueRepo();
      await fx.client.startUpload(repo);
      for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', 'x'.repeat(300)]) {
        const res = await fx.client.fetch(`/v2/${repo}/blobs/uploads/${id}`);
        await assertOciError(res, 404, 'BLOB_UPLOAD_UNKNOWN');
      }
    });

    test('a session belongs to its repository', async () => {
      const repo = uniqueRepo();
      const location = await fx.client.startUpload(repo);
      const id = location.split('/').at(-1)!;
      const other = uniqueRepo();
      await fx.client.startUpload(other);
      const res = await fx.client.fetch(`/v2/${other}/blobs/uploads/${id}`);
      await assertOciError(res, 404, 'BLOB_UPLOAD_UNKNOWN');
    });

    test('sha512: monolithic and chunked uploads are verified and served by sha512 digest', async () => {
      const repo = uniqueRepo();
      const mono = randomBlob(4096, undefined, 'sha512');
      assert.match(mono.digest, /^sha512:[0-9a-f]{128}$/);
      await fx.client.pushBlob(repo, mono);
      await downloads(fx.client, repo, mono);
      const head = await fx.client.fetch(`/v2/${repo}/blobs/${mono.digest}`, { method: 'HEAD' });
      assert.equal(head.headers.get('docker-content-digest'), mono.digest);

      const chunked = blobOf(randomBytes(70_000), undefined, 'sha512');
      const location = await fx.client.startUpload(repo);
      assert.equal((await patch(fx.client, location, chunked.bytes.subarray(0, 30_000))).status, 202);
      const put = await fx.client.fetch(withDigest(location, chunked.digest), {
        method: 'PUT',
        body: body(chunked.bytes.subarray(30_000)),
      });
      assert.equal(put.status, 201);
      assert.equal(put.headers.get('docker-content-digest'), chunked.digest);
      await downloads(fx.client, repo, chunked);

      const wrong = blobOf(randomBytes(10), undefined, 'sha512');
      const bad = await fx.client.fetch(`/v2/${repo}/blobs/uploads/?digest=${wrong.digest}`, {
        method: 'POST',
        body: body(randomBytes(10)),
      });
      await assertOciError(bad, 400, 'DIGEST_INVALID');
    });

    describe('cross-repository mount', () => {
      test('mounting a blob that `from` holds answers 201 and links it', async () => {
        const source = uniqueRepo('src');
        const image = makeImage({ layers: 1 });
        await fx.client.pushImage(source, image, 'v1');
        const layer = image.blobs[1]!;
        const target = uniqueRepo('dst');
        const res = await fx.client.fetch(
          `/v2/${target}/blobs/uploads/?mount=${layer.digest}&from=${encodeURIComponent(source)}`,
          { method: 'POST' },
        );
        assert.equal(res.status, 201);
        assert.equal(res.headers.get('location'), `/v2/${target}/blobs/${layer.digest}`);
        assert.equal(res.headers.get('docker-content-digest'), layer.digest);
        await downloads(fx.client, target, layer);
      });

      test('a blob `from` does not hold falls back to a 202 upload session', async () => {
        const source = uniqueRepo('src');
        await fx.client.pushImage(source, makeImage({ layers: 1 }), 'v1');
        const elsewhere = randomBlob(50);
        await fx.client.pushBlob(uniqueRepo(), elsewhere);
        const target = uniqueRepo('dst');
        const res = await fx.client.fetch(
          `/v2/${target}/blobs/uploads/?mount=${elsewhere.digest}&from=${encodeURIComponent(source)}`,
          { method: 'POST' },
        );
        assert.equal(res.status, 202);
        const location = res.headers.get('location')!;
        assert.match(location, new RegExp(`^/v2/${target}/blobs/uploads/`));
        assert.match(res.headers.get('docker-upload-uuid') ?? '', uuidRe);
        const head = await fx.client.fetch(`/v2/${target}/blobs/${elsewhere.digest}`, { method: 'HEAD' });
        assert.equal(head.status, 404, 'nothing was mounted');
        // The session is a normal one.
        const put = await fx.client.fetch(withDigest(location, elsewhere.digest), {
          method: 'PUT',
          body: body(elsewhere.bytes),
        });
        assert.equal(put.status, 201);
        await downloads(fx.client, target, elsewhere);
      });

      test('mounting from a missing repository falls back to a 202 session', async () => {
        const source = uniqueRepo('src');
        const image = makeImage({ layers: 1 });
        await fx.client.pushImage(source, image, 'v1');
        const layer = image.blobs[1]!;
        const target = uniqueRepo('dst');
        const missingRepo = source.replace(/\/src$/, '/does-not-exist');
        for (const from of ['nosuchproject/repo', missingRepo, 'Bad/Name']) {
          const res = await fx.client.fetch(
            `/v2/${target}/blobs/uploads/?mount=${layer.digest}&from=${encodeURIComponent(from)}`,
            { method: 'POST' },
          );
          await res.body?.cancel();
          assert.equal(res.status, 202, `from=${from}`);
          assert.match(res.headers.get('location') ?? '', new RegExp(`^/v2/${target}/blobs/uploads/`));
        }
        const head = await fx.client.fetch(`/v2/${target}/blobs/${layer.digest}`, { method: 'HEAD' });
        assert.equal(head.status, 404, 'nothing was mounted');
      });

      test('mount without `from` opens a 202 session', async () => {
        const target = uniqueRepo();
        const res = await fx.client.fetch(`/v2/${target}/blobs/uploads/?mount=${digestOf('x')}`, {
          method: 'POST',
        });
        assert.equal(res.status, 202);
        assert.ok(res.headers.get('location'));
      });

      test('mount with a malformed digest answers 400 DIGEST_INVALID', async () => {
        const res = await fx.client.fetch(`/v2/${uniqueRepo()}/blobs/uploads/?mount=sha256:zz&from=a/b`, {
          method: 'POST',
        });
        await assertOciError(res, 400, 'DIGEST_INVALID');
      });
    });
  });
}
