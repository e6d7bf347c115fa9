import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { backends, basicAuth, startBerth, testAdmin, type Backend } from '../../helpers/berth.js';
import {
  body,
  closeNow,
  digestOf,
  makeImage,
  randomBlob,
  RegistryClient,
  clientFor,
  uniqueRepo,
  useBerth,
  type Blob,
} from '../../helpers/registry-client.js';

/**
 * Sends `declared` bytes' worth of headers but only `sent` bytes of body, then destroys the request, as a
 * client that dies mid-upload does. Resolves once the socket is gone.
 */
function abortedRequest(
  baseUrl: string,
  method: string,
  path: string,
  bytes: Buffer,
  sent: number,
  headers: Record<string, string> = {},
): Promise<void> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const req = request({
      host: hostname,
      port,
      method,
      path,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': bytes.length,
        authorization: basicAuth(testAdmin),
        ...headers,
      },
    });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.on('response', (res) => {
      res.resume();
      assert.fail(`the server answered ${res.statusCode} to a request that never finished`);
    });
    req.write(bytes.subarray(0, sent), () => {
      // Let the bytes reach the server before the connection dies.
      setTimeout(() => req.destroy(), 100);
    });
  });
}

/** The session's byte count from GET, once a concurrent (aborted) request has let go of it. */
async function settledOffset(client: RegistryClient, location: string): Promise<number> {
  let last = -1;
  for (let i = 0; i < 50; i++) {
    const res = await client.fetch(location);
    assert.equal(res.status, 204);
    const offset = Number(/^0-(\d+)$/.exec(res.headers.get('range') ?? '')![1]) + 1;
    if (offset === last) return offset;
    last = offset;
    await sleep(50);
  }
  return last;
}

/** PATCHes `bytes[from..]` with Content-Range; on 416 resumes from the Range the server reports. */
async function resume(client: RegistryClient, location: string, bytes: Buffer, from: number): Promise<void> {
  let start = from;
  for (let attempt = 0; attempt < 20; attempt++) {
    const res = await client.fetch(location, {
      method: 'PATCH',
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': `${start}-${bytes.length - 1}`,
      },
      body: body(bytes.subarray(start)),
    });
    await res.body?.cancel();
    if (res.status === 202) {
      assert.equal(res.headers.get('range'), `0-${bytes.length - 1}`);
      return;
    }
    assert.equal(res.status, 416, `PATCH from ${start}: ${res.status}`);
    start = Number(/^0-(\d+)$/.exec(res.headers.get('range') ?? '')![1]) + 1;
    await sleep(50);
  }
  assert.fail('upload could not be resumed');
}

async function assertBlob(client: RegistryClient, repo: string, blob: Blob): Promise<void> {
  const res = await client.fetch(`/v2/${repo}/blobs/${blob.digest}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('docker-content-digest'), blob.digest);
  const got = Buffer.from(await res.arrayBuffer());
  assert.equal(got.length, blob.bytes.length);
  assert.equal(digestOf(got), blob.digest, 'downloaded bytes match the digest');
}

async function headStatus(client: RegistryClient, repo: string, digest: string): Promise<number> {
  const res = await client.fetch(`/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
  return res.status;
}

function restartTest(backend: Backend) {
  test('an upload session survives a restart and completes with the right digest', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'berth-restart-'));
    try {
      const repo = uniqueRepo();
      const blob = randomBlob(600_000);
      const half = 250_000;

      const first = await startBerth({ backend, dataDir });
      let location: string;
      try {
        const client = clientFor(first);
        location = await client.startUpload(repo);
        const res = await client.fetch(location, {
          method: 'PATCH',
          headers: { 'content-type': 'application/octet-stream' },
          body: body(blob.bytes.subarray(0, half)),
        });
        assert.equal(res.status, 202);
        assert.equal(res.headers.get('range'), `0-${half - 1}`);
        location = res.headers.get('location')!;
      } finally {
        await closeNow(first);
      }

      const second = await startBerth({ backend, dataDir, databaseUrl: first.databaseUrl });
      try {
        const client = clientFor(second);
        const status = await client.fetch(location);
        assert.equal(status.status, 204);
        assert.equal(status.headers.get('range'), `0-${half - 1}`);
        const rest = await client.fetch(location, {
          method: 'PATCH',
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${half}-${blob.bytes.length - 1}`,
          },
          body: body(blob.bytes.subarray(half)),
        });
        assert.equal(rest.status, 202);
        const sep = location.includes('?') ? '&' : '?';
        const put = await client.fetch(`${location}${sep}digest=${blob.digest}`, { method: 'PUT' });
        assert.equal(put.status, 201);
        await assertBlob(client, repo, blob);
      } finally {
        await closeNow(second);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}

for (const backend of backends()) {
  describe(`durability and concurrency [${backend}]`, () => {
    const fx = useBerth(backend);

    restartTest(backend);

    test('a PATCH cut off mid-body leaves no blob, and the session resumes from the reported Range', async () => {
      const repo = uniqueRepo();
      const blob = randomBlob(2 * 1024 * 1024);
      const location = await fx.client.startUpload(repo);
      await abortedRequest(fx.berth.url, 'PATCH', location, blob.bytes, 700_000);

      assert.equal(await headStatus(fx.client, repo, blob.digest), 404, 'no blob after a cut-off upload');
      const offset = await settledOffset(fx.client, location);
      assert.ok(offset <= 700_000, `session holds ${offset} bytes, more than were sent`);

      await resume(fx.client, location, blob.bytes, offset);
      const put = await fx.client.fetch(`${location}?digest=${blob.digest}`, { method: 'PUT' });
      assert.equal(put.status, 201, await put.text());
      await assertBlob(fx.client, repo, blob);
    });

    test('a monolithic POST cut off mid-body leaves no blob', async () => {
      const repo = uniqueRepo();
      await fx.client.pushBlob(repo, randomBlob(10));
      const blob = randomBlob(1024 * 1024);
      await abortedRequest(
        fx.berth.url,
        'POST',
        `/v2/${repo}/blobs/uploads/?digest=${blob.digest}`,
        blob.bytes,
        300_000,
      );
      await sleep(100);
      assert.equal(await headStatus(fx.client, repo, blob.digest), 404);
      await fx.client.pushBlob(repo, blob);
      await assertBlob(fx.client, repo, blob);
    });

    test('a final PUT cut off mid-body leaves no blob', async () => {
      const repo = uniqueRepo();
      const blob = randomBlob(1024 * 1024);
      const location = await fx.client.startUpload(repo);
      await abortedRequest(fx.berth.url, 'PUT', `${location}?digest=${blob.digest}`, blob.bytes, 400_000);
      await sleep(100);
      assert.equal(await headStatus(fx.client, repo, blob.digest), 404);
    });

    test('clients pushing the same blob at once all succeed and the blob is intact', async () => {
      const repo = uniqueRepo();
      const blob = randomBlob(512 * 1024);
      const monolithic = Array.from({ length: 4 }, () => fx.client.pushBlob(repo, blob));
      const chunked = Array.from({ length: 3 }, async () => {
        const location = await fx.client.startUpload(repo);
        const res = await fx.client.fetch(location, {
          method: 'PATCH',
          headers: { 'content-type': 'application/octet-stream' },
          body: body(blob.bytes.subarray(0, 200_000)),
        });
        assert.equal(res.status, 202);
        const put = await fx.client.fetch(`${location}?digest=${blob.digest}`, {
          method: 'PUT',
          body: body(blob.bytes.subarray(200_000)),
        });
        assert.equal(put.status, 201);
      });
      await Promise.all([...monolithic, ...chunked]);
      await assertBlob(fx.client, repo, blob);
    });

    test('clients pushing the same blob to two projects at once leave it in both', async () => {
      const a = uniqueRepo();
      const b = uniqueRepo();
      const blob = randomBlob(256 * 1024);
      await Promise.all([
        fx.client.pushBlob(a, blob),
        fx.client.pushBlob(b, blob),
        fx.client.pushBlob(a, blob),
      ]);
      await assertBlob(fx.client, a, blob);
      await assertBlob(fx.client, b, blob);
    });

    test('clients pushing different manifests to one tag at once: the tag resolves to one of them', async () => {
      for (let round = 0; round < 3; round++) {
        const repo = uniqueRepo();
        const images = [makeImage({ layers: 1 }), makeImage({ layers: 1 })];
        // Layers and manifests race too: each client pushes its whole image.
        const results = await Promise.all(images.map((m) => fx.client.pushImage(repo, m, 'latest')));
        for (const res of results) assert.equal(res.status, 201);

        const res = await fx.client.fetch(`/v2/${repo}/manifests/latest`);
        assert.equal(res.status, 200);
        const bytes = Buffer.from(await res.arrayBuffer());
        const winner = images.find((m) => m.digest === res.headers.get('docker-content-digest'));
        assert.ok(winner, 'the tag points at one of the pushed manifests');
        assert.deepEqual(bytes, winner.bytes);
        for (const m of images) {
          const byDigest = await fx.client.fetch(`/v2/${repo}/manifests/${m.digest}`);
          assert.equal(byDigest.status, 200, 'both manifests are stored');
          await byDigest.body?.cancel();
        }
        const tags = await fx.client.getJson<{ tags: string[] }>(`/v2/${repo}/tags/list`);
        assert.deepEqual(tags.body.tags, ['latest']);
        for (const blob of winner.blobs) await assertBlob(fx.client, repo, blob);
      }
    });

    test('clients pushing the same image to new repositories of one project at once all succeed', async () => {
      const project = uniqueRepo().split('/')[0]!;
      const image = makeImage({ layers: 2 });
      const repos = ['a', 'b', 'c', 'a'].map((r) => `${project}/${r}`);
      await Promise.all(repos.map((r) => fx.client.pushImage(r, image, 'v1')));
      for (const r of new Set(repos)) {
        const res = await fx.client.fetch(`/v2/${r}/manifests/v1`);
        assert.equal(res.status, 200);
        assert.deepEqual(Buffer.from(await res.arrayBuffer()), image.bytes);
      }
    });

    test('a session cut off twice still completes with intact bytes', async () => {
      const repo = uniqueRepo();
      const blob = randomBlob(1536 * 1024);
      const location = await fx.client.startUpload(repo);
      await abortedRequest(fx.berth.url, 'PATCH', location, blob.bytes, 300_000);
      let offset = await settledOffset(fx.client, location);
      const rest = blob.bytes.subarray(offset);
      await abortedRequest(fx.berth.url, 'PATCH', location, rest, 400_000, {
        'content-range': `${offset}-${blob.bytes.length - 1}`,
      });
      offset = await settledOffset(fx.client, location);
      await resume(fx.client, location, blob.bytes, offset);
      const put = await fx.client.fetch(`${location}?digest=${blob.digest}`, { method: 'PUT' });
      assert.equal(put.status, 201);
      await assertBlob(fx.client, repo, blob);
    });
  });
}
