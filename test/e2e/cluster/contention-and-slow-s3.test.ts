// Two failure cases of a cluster on PostgreSQL + S3 that docs/scale-out.md lists (the others are in
// node-failure.test.ts): two nodes writing to the same upload session at once (one wins, the other is
// told RANGE_INVALID, the blob is whole), and S3 answering slowly (a proxy holds every answer of the
// RADOS Gateway: pushes and pulls complete, through either node, with the right bytes).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { BerthProcess } from '../../helpers/berth-process.js';
import { clusterS3, startCluster, type Cluster } from '../../helpers/cluster.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { assertOciError, makeImage, randomBlob, RegistryClient } from '../../helpers/registry-client.js';
import type { RunningS3Server } from '../../helpers/s3-server.js';
import { startDelayProxy, type SlowProxy } from '../../helpers/slow-proxy.js';
import { requireAll } from '../../helpers/tools.js';
import { waitFor } from '../../helpers/wait.js';

const needsPg = { skip: !process.env.BERTH_TEST_PG_URL && !requireAll };
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let s3: RunningS3Server | undefined;
before(async () => {
  if (!needsPg.skip) s3 = await clusterS3();
});
after(async () => {
  await s3?.stop();
});

describe('two nodes writing to one upload session at once', needsPg, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({ nodes: 2, s3 });
    await new HarborApi(cluster.nodes[0]!.url).expect(201, 'POST', '/projects', { project_name: 'race' });
  });
  after(async () => {
    await cluster?.close();
  });

  it('the second writer gets 416 RANGE_INVALID while the first streams, and the blob is the first one whole', async () => {
    const [a, b] = cluster.nodes as [BerthProcess, BerthProcess];
    const onA = new RegistryClient(a.url);
    const onB = new RegistryClient(b.url);
    const mine = randomBlob(512 * 1024);
    const theirs = randomBlob(512 * 1024);
    const location = await onA.startUpload('race/raw');
    const id = new URL(location, a.url).pathname.split('/').pop()!;
    const range = {
      'content-type': 'application/octet-stream',
      'content-range': `0-${mine.bytes.length - 1}`,
    };

    // A's chunk arrives in two halves, and B's whole chunk comes in between them.
    let release!: () => void;
    const secondHalf = new Promise<void>((r) => (release = r));
    const half = mine.bytes.length / 2;
    const slowBody = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new Uint8Array(mine.bytes.subarray(0, half)));
        await secondHalf;
        controller.enqueue(new Uint8Array(mine.bytes.subarray(half)));
        controller.close();
      },
    });
    const first = onA.fetch(location, {
      method: 'PATCH',
      headers: range,
      body: slowBody,
      duplex: 'half',
    } as RequestInit);
    await waitFor('A to claim the session', async () => {
      const rows = await sql<{ size: number }>`select size from upload where id = ${id}`.execute(cluster.db);
      return Number(rows.rows[0]?.size) === -1;
    });
    const second = await onB.fetch(location, {
      method: 'PATCH',
      headers: range,
      body: new Uint8Array(theirs.bytes),
    });
    await assertOciError(second, 416, 'RANGE_INVALID');
    release();
    const won = await first;
    assert.equal(won.status, 202, await won.text());
    assert.equal(won.headers.get('range'), `0-${mine.bytes.length - 1}`);

    // Both at once, each from offset 0 again on a fresh session: exactly one is accepted.
    const again = await onA.startUpload('race/raw');
    const both = await Promise.all([
      onA.fetch(again, { method: 'PATCH', headers: range, body: new Uint8Array(mine.bytes) }),
      onB.fetch(again, { method: 'PATCH', headers: range, body: new Uint8Array(theirs.bytes) }),
    ]);
    const statuses = both.map((r) => r.status).sort();
    assert.deepEqual(statuses, [202, 416], `answers ${statuses.join(', ')}`);
    const winner = both[0]!.status === 202 ? mine : theirs;
    for (const r of both) await r.body?.cancel();

    for (const [loc, blob] of [
      [won.headers.get('location')!, mine],
      [both.find((r) => r.status === 202)!.headers.get('location')!, winner],
    ] as const) {
      const done = await onB.fetch(`${loc}${loc.includes('?') ? '&' : '?'}digest=${blob.digest}`, {
        method: 'PUT',
      });
      assert.equal(done.status, 201, await done.text());
      const got = await onA.fetch(`/v2/race/raw/blobs/${blob.digest}`);
      assert.equal(got.status, 200);
      assert.equal(sha256(Buffer.from(await got.arrayBuffer())), blob.digest);
    }
  });
});

describe('S3 answering slowly under two nodes', needsPg, () => {
  let cluster: Cluster;
  let proxy: SlowProxy | undefined;
  const delayMs = 150;

  before(async () => {
    if (!s3) return;
    // Every answer of the gateway, each chunk of it, is held 150 ms: a store under heavy load.
    proxy = await startDelayProxy(new URL(s3.storageOptions('any').endpoint).host, delayMs);
    cluster = await startCluster({ nodes: 2, s3, env: { BERTH_STORAGE_S3_ENDPOINT: proxy.url } });
    await new HarborApi(cluster.nodes[0]!.url).expect(201, 'POST', '/projects', { project_name: 'slow' });
  });
  after(async () => {
    await cluster?.close();
    await proxy?.close();
  });

  it('a push through A and a pull through B complete with the same bytes, only later', async (t) => {
    if (!s3) return t.skip('no S3 server (Ceph tools not installed)');
    const [a, b] = cluster.nodes as [BerthProcess, BerthProcess];
    const image = makeImage({ layers: 2, layerSize: 256 * 1024 });
    const started = Date.now();
    await new RegistryClient(a.url).pushImage('slow/app', image, 'v1');
    const pushMs = Date.now() - started;
    const onB = new RegistryClient(b.url);
    const manifest = await onB.fetch('/v2/slow/app/manifests/v1', { headers: { accept: image.mediaType } });
    assert.equal(manifest.status, 200);
    assert.equal(manifest.headers.get('docker-content-digest'), image.digest);
    assert.equal(sha256(Buffer.from(await manifest.arrayBuffer())), image.digest);
    for (const blob of image.blobs) {
      const res = await onB.fetch(`/v2/slow/app/blobs/${blob.digest}`);
      assert.equal(res.status, 200);
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), blob.digest);
    }
    // The delay was in the path (each S3 call waits at least delayMs).
    assert.ok(pushMs >= delayMs * image.blobs.length, `push took ${pushMs} ms`);
    for (const node of [a, b]) assert.ok(node.running, `${node.url} exited: ${node.output()}`);
    t.diagnostic(`push of ${image.blobs.length} blobs + manifest through a ${delayMs} ms S3: ${pushMs} ms`);
  });

  it('a chunked upload across both nodes through the slow S3 completes whole', async (t) => {
    if (!s3) return t.skip('no S3 server (Ceph tools not installed)');
    const [a, b] = cluster.nodes as [BerthProcess, BerthProcess];
    const blob = randomBlob(3 * 256 * 1024);
    const part = 256 * 1024;
    let location = await new RegistryClient(a.url).startUpload('slow/raw');
    for (let i = 0; i < 3; i++) {
      const node = new RegistryClient((i % 2 === 0 ? b : a).url);
      const res = await node.fetch(location, {
        method: 'PATCH',
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `${i * part}-${(i + 1) * part - 1}`,
        },
        body: new Uint8Array(blob.bytes.subarray(i * part, (i + 1) * part)),
      });
      assert.equal(res.status, 202, await res.text());
      location = res.headers.get('location')!;
    }
    const done = await new RegistryClient(b.url).fetch(
      `${location}${location.includes('?') ? '&' : '?'}digest=${blob.digest}`,
      { method: 'PUT' },
    );
    assert.equal(done.status, 201, await done.text());
    const got = await new RegistryClient(a.url).fetch(`/v2/slow/raw/blobs/${blob.digest}`);
    assert.equal(sha256(Buffer.from(await got.arrayBuffer())), blob.digest);
  });
});
