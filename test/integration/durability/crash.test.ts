// Crash durability: Berth runs as a child process and is killed (SIGKILL) in the middle of writes, then
// restarted on the same data folder and database. A crash mid-write must leave nothing half-visible and
// lose nothing committed; a SIGTERM must shut down cleanly and flush what is held in memory.
import assert from 'node:assert/strict';
import { waitFor } from '../../helpers/wait.js';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { backends, type Backend } from '../../helpers/berth.js';
import { spawnBerth, type BerthProcess } from '../../helpers/berth-process.js';
import { basicAuth, testAdmin } from '../../helpers/berth.js';
import { createDatabase } from '../../helpers/postgres.js';
import {
  RegistryClient,
  digestOf,
  makeImage,
  mediaTypes,
  uniqueRepo,
  type Manifest,
} from '../../helpers/registry-client.js';

const MiB = 1024 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A data folder plus (on PostgreSQL) a database: what survives a restart. */
interface Site {
  dataDir: string;
  databaseUrl?: string;
}

for (const backend of backends()) {
  // One data folder and database per backend, and one Berth at a time on them: each scenario kills the
  // running process mid-write and checks what the next one (same folder, same database) serves.
  describe(`crash durability (${backend})`, () => {
    let site: Site;
    let current: BerthProcess | undefined;

    before(async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'berth-crash-'));
      if (backend === 'sqlite') site = { dataDir };
      else {
        const admin = process.env.BERTH_TEST_PG_URL;
        assert.ok(admin, 'BERTH_TEST_PG_URL is not set');
        site = { dataDir, databaseUrl: await createDatabase(admin) };
      }
    });

    after(async () => {
      await current?.stop(2000);
      rmSync(site.dataDir, { recursive: true, force: true });
    });

    /** The Berth serving the site, started if none is running. */
    async function running(): Promise<BerthProcess> {
      if (!current?.running) current = await spawnBerth(site);
      return current;
    }

    /** Sends SIGKILL and checks that it is what ended the process. */
    async function sigkill(berth: BerthProcess): Promise<void> {
      const exit = await berth.kill('SIGKILL');
      assert.equal(exit.signal, 'SIGKILL', `berth exited on its own before the kill:\n${berth.output()}`);
    }

    test('SIGKILL during a chunked PATCH: the upload resumes from a consistent prefix and completes', async () => {
      let berth = await running();
      const repo = `library/${uniqueRepo('big')}`;
      const data = randomBytes(64 * MiB);
      const digest = digestOf(data);
      const location = await new RegistryClient(berth.url).startUpload(repo);
      const path = new URL(location, berth.url).pathname;

      const upload = slowRequest(berth.url, 'PATCH', path, data, {
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
        chunk: 256 * 1024,
        pauseMs: 8,
      });
      await until(() => upload.sent() >= 20 * MiB, 20_000, 'the client never sent 20 MiB');
      await sigkill(berth);
      const sent = upload.sent();
      const outcome = await upload.done;
      assert.ok(outcome instanceof Error, `the PATCH was answered (${String(outcome)}) before the kill`);
      assert.ok(sent < data.length, 'the whole body went out before the kill');

      berth = await running();
      const client = new RegistryClient(berth.url);
      const head = await client.fetch(`/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
      assert.equal(head.status, 404, 'the blob is visible before the upload was completed');

      const status = await client.fetch(path);
      assert.equal(status.status, 204, `upload status after restart: ${status.status}`);
      const range = /^0-(\d+)$/.exec(status.headers.get('range') ?? '');
      assert.ok(range, `bad Range header ${status.headers.get('range')}`);
      const offset = Number(range[1]) + 1;
      assert.ok(offset > 1, `nothing of the ${sent} bytes sent was kept (Range ${range[0]})`);
      assert.ok(offset <= sent, `the upload holds ${offset} bytes but only ${sent} were sent`);

      // The killed process's claim on the session is taken over once it is 5 s old (416 until then).
      const rest = await waitFor(
        'the dead writer claim to lapse',
        async () => {
          const res = await client.fetch(path, {
            method: 'PATCH',
            headers: {
              'content-type': 'application/octet-stream',
              'content-range': `${offset}-${data.length - 1}`,
            },
            body: new Uint8Array(data.subarray(offset)),
          });
          await res.body?.cancel();
          return res.status === 416 ? undefined : res;
        },
        20_000,
        500,
      );
      assert.equal(rest.status, 202, `PATCH of the rest from ${offset}: ${rest.status}`);
      assert.equal(rest.headers.get('range'), `0-${data.length - 1}`);
      assert.equal((await client.fetch(`/v2/${repo}/blobs/${digest}`, { method: 'HEAD' })).status, 404);

      const put = await client.fetch(`${path}?digest=${digest}`, { method: 'PUT' });
      const putText = await put.text();
      assert.equal(put.status, 201, `completing the upload: ${put.status} ${putText}`);
      assert.equal(put.headers.get('docker-content-digest'), digest);
      await assertBlob(client, repo, digest, data.length);
    });

    test('SIGKILL during concurrent manifest pushes: every listed tag is whole, no acknowledged tag is lost', async () => {
      let berth = await running();
      const repo = `library/${uniqueRepo('many')}`;
      const maxTags = 400;
      const killAfterTags = 24;
      const pushed = new Map<string, Manifest>();
      const acknowledged = new Set<string>();
      const failures: string[] = [];
      let next = 0;
      let killed = false;

      const pusher = async () => {
        const client = new RegistryClient(berth.url);
        while (!killed && next < maxTags) {
          const tag = `t${next++}`;
          const image = makeImage({ layers: 2, layerSize: 4096 });
          pushed.set(tag, image);
          try {
            await client.pushImage(repo, image, tag);
            acknowledged.add(tag);
          } catch (err) {
            if (!killed) failures.push(`${tag}: ${(err as Error).message}`);
            return;
          }
        }
      };
      const clients = Array.from({ length: 4 }, pusher);
      await until(() => acknowledged.size >= killAfterTags || failures.length > 0, 30_000, 'pushes stalled');
      assert.deepEqual(failures, [], 'a push failed before the kill');
      assert.ok(next < maxTags, 'every push finished before the kill');
      killed = true;
      await sigkill(berth);
      await Promise.all(clients);
      const acked = [...acknowledged];

      berth = await running();
      const client = new RegistryClient(berth.url);
      const { body } = await client.getJson<{ tags: string[] }>(`/v2/${repo}/tags/list?n=10000`);
      const listed = new Set(body.tags);
      for (const tag of acked) assert.ok(listed.has(tag), `acknowledged tag ${tag} was lost`);
      for (const tag of listed) {
        const image = pushed.get(tag);
        assert.ok(image, `tag ${tag} was never pushed`);
        const res = await client.fetch(`/v2/${repo}/manifests/${tag}`, {
          headers: { accept: mediaTypes.ociManifest },
        });
        const bytes = Buffer.from(await res.arrayBuffer());
        assert.equal(res.status, 200, `GET manifest ${tag}: ${res.status} ${bytes.toString().slice(0, 200)}`);
        const header = res.headers.get('docker-content-digest');
        assert.equal(digestOf(bytes), header, `manifest ${tag} does not hash to its Docker-Content-Digest`);
        assert.equal(header, image.digest, `tag ${tag} points at a manifest other than the one pushed`);
        const doc = JSON.parse(bytes.toString()) as { config: { digest: string; size: number } } & {
          layers: { digest: string; size: number }[];
        };
        for (const d of [doc.config, ...doc.layers]) await assertBlob(client, repo, d.digest, d.size);
      }
      // Pushes cut short leave their blobs whole or absent.
      for (const [tag, image] of pushed) {
        if (listed.has(tag)) continue;
        for (const blob of image.blobs) await assertWholeOrAbsent(client, repo, blob.digest, blob.bytes);
      }
      assert.ok(listed.size >= acked.length);
    });

    test('SIGKILL during monolithic blob POSTs: each blob is whole or absent, and pushes again', async () => {
      let berth = await running();
      const repo = `library/${uniqueRepo('mono')}`;
      let killed = false;

      // One large blob streamed slowly (at most 6.4 MiB/s), so the kill lands mid-body ...
      const big = randomBytes(32 * MiB);
      const bigDigest = digestOf(big);
      const bigUpload = slowRequest(
        berth.url,
        'POST',
        `/v2/${repo}/blobs/uploads/?digest=${bigDigest}`,
        big,
        {
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(big.length) },
          chunk: 128 * 1024,
          pauseMs: 20,
        },
      );
      // ... while 8 clients push small blobs back to back, so some are between verification and commit.
      const small: { digest: string; bytes: Buffer; acknowledged: boolean }[] = [];
      const failures: string[] = [];
      const smallPusher = async () => {
        const client = new RegistryClient(berth.url);
        while (!killed && small.length < 500) {
          const bytes = randomBytes(64 * 1024 + small.length);
          const blob = { digest: digestOf(bytes), bytes, acknowledged: false };
          small.push(blob);
          try {
            await client.pushBlob(repo, blob);
            blob.acknowledged = true;
          } catch (err) {
            if (!killed) failures.push((err as Error).message);
            return;
          }
        }
      };
      const smallPushers = Array.from({ length: 8 }, smallPusher);

      const acknowledged = () => small.filter((b) => b.acknowledged).length;
      await until(
        () => (bigUpload.sent() >= 4 * MiB && acknowledged() >= 80) || failures.length > 0,
        20_000,
        'the clients stalled',
      );
      assert.deepEqual(failures, [], 'a small push failed before the kill');
      killed = true;
      await sigkill(berth);
      await Promise.all(smallPushers);
      assert.ok((await bigUpload.done) instanceof Error, 'the large POST was answered before the kill');
      assert.ok(bigUpload.sent() < big.length, 'the large body was sent whole before the kill');

      berth = await running();
      const client = new RegistryClient(berth.url);
      const head = await client.fetch(`/v2/${repo}/blobs/${bigDigest}`, { method: 'HEAD' });
      assert.equal(head.status, 404, 'a blob cut off mid-body is visible');
      assert.equal((await client.fetch(`/v2/${repo}/blobs/${bigDigest}`)).status, 404);
      for (const blob of small) {
        if (blob.acknowledged) await assertBlob(client, repo, blob.digest, blob.bytes.length);
        else await assertWholeOrAbsent(client, repo, blob.digest, blob.bytes);
      }

      await client.pushBlob(repo, { digest: bigDigest, bytes: big });
      await assertBlob(client, repo, bigDigest, big.length);
      for (const blob of small.filter((b) => !b.acknowledged)) {
        await client.pushBlob(repo, blob);
        await assertBlob(client, repo, blob.digest, blob.bytes.length);
      }
    });

    test('SIGTERM exits 0 promptly and flushes pull counts and pull times held in memory', async () => {
      let berth = await running();
      const repo = `library/${uniqueRepo('pulls')}`;
      const client = new RegistryClient(berth.url);
      const image = makeImage();
      await client.pushImage(repo, image, 'latest');
      const pulls = 5;
      for (let i = 0; i < pulls; i++) {
        const res = await client.fetch(`/v2/${repo}/manifests/${i % 2 ? image.digest : 'latest'}`, {
          headers: { accept: mediaTypes.ociManifest },
        });
        await res.body?.cancel();
        assert.equal(res.status, 200);
      }
      // Pulls are written to the database in batches every 2 s: the SIGTERM arrives before the next batch.
      const started = Date.now();
      const exit = await berth.kill('SIGTERM');
      const took = Date.now() - started;
      assert.deepEqual(exit, { code: 0, signal: null }, `SIGTERM exit:\n${berth.output()}`);
      assert.ok(took < 5000, `shutting down took ${took} ms`);

      berth = await running();
      const health = await fetch(`${berth.url}/health`);
      assert.equal(health.status, 200);

      const row = await pullRecord(backend, site, repo, image.digest);
      assert.ok(row, `no artifact row for ${repo}@${image.digest}`);
      assert.notEqual(row.pullTime, null, 'artifact.pull_time was not flushed on shutdown');
      assert.ok(
        row.pullCount >= pulls,
        `repository.pull_count is ${row.pullCount} after ${pulls} pulls: counts were lost on shutdown`,
      );
    });
  });
}

/** Polls `condition` every 10 ms; fails after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`${message} (after ${timeoutMs} ms)`);
    await sleep(10);
  }
}

interface SlowRequest {
  /** Bytes handed to the socket so far: an upper bound of what the server can have received. */
  sent(): number;
  /** The response status, or the error that ended the request (a reset connection after a kill). */
  done: Promise<number | Error>;
}

/** Streams `data` as a request body in `chunk`-sized writes with a pause between them. */
function slowRequest(
  baseUrl: string,
  method: string,
  path: string,
  data: Buffer,
  options: { headers: Record<string, string>; chunk: number; pauseMs: number },
): SlowRequest {
  const { hostname, port } = new URL(baseUrl);
  let sent = 0;
  let ended = false;
  const headers = { authorization: basicAuth(testAdmin), ...options.headers };
  const req = request({ host: hostname, port, method, path, headers, agent: false });
  const done = new Promise<number | Error>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
      res.on('error', resolve);
    });
    req.on('error', resolve);
    req.on('close', () => {
      ended = true;
    });
  });
  void (async () => {
    for (let offset = 0; offset < data.length && !ended; offset += options.chunk) {
      const piece = data.subarray(offset, offset + options.chunk);
      sent += piece.length;
      if (!req.write(piece)) {
        await new Promise<void>((resolve) => {
          const go = () => {
            req.off('drain', go);
            req.off('close', go);
            resolve();
          };
          req.on('drain', go);
          req.on('close', go);
        });
      }
      await sleep(options.pauseMs);
    }
    if (!ended) req.end();
  })();
  return { sent: () => sent, done };
}

/** The blob is downloadable, `size` bytes long and hashes to `digest`. */
async function assertBlob(client: RegistryClient, repo: string, digest: string, size: number): Promise<void> {
  const res = await client.fetch(`/v2/${repo}/blobs/${digest}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.equal(res.status, 200, `GET blob ${digest}: ${res.status} ${bytes.toString().slice(0, 200)}`);
  assert.equal(bytes.length, size, `blob ${digest} is ${bytes.length} bytes, expected ${size}`);
  const algorithm = digest.split(':')[0]!;
  assert.equal(`${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`, digest);
}

/** The blob answers 404 on HEAD and GET, or is complete with the right digest: never truncated. */
async function assertWholeOrAbsent(
  client: RegistryClient,
  repo: string,
  digest: string,
  bytes: Buffer,
): Promise<void> {
  const head = await client.fetch(`/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
  if (head.status === 404) {
    const get = await client.fetch(`/v2/${repo}/blobs/${digest}`);
    await get.body?.cancel();
    assert.equal(get.status, 404, `blob ${digest}: HEAD says 404 but GET says ${get.status}`);
    return;
  }
  assert.equal(head.status, 200, `HEAD blob ${digest}: ${head.status}`);
  assert.equal(head.headers.get('content-length'), String(bytes.length), `HEAD blob ${digest}: size`);
  await assertBlob(client, repo, digest, bytes.length);
}

/** Reads the artifact's pull time and its repository's pull count straight from the database. */
async function pullRecord(
  backend: Backend,
  site: Site,
  repository: string,
  digest: string,
): Promise<{ pullTime: string | null; pullCount: number } | undefined> {
  const query = `select a.pull_time as "pullTime", r.pull_count as "pullCount"
    from artifact a join repository r on r.id = a.repository_id
    where r.name = $1 and a.digest = $2`;
  if (backend === 'sqlite') {
    const db = new BetterSqlite3(join(site.dataDir, 'berth.db'), { readonly: true });
    try {
      const row = db.prepare(query.replace('$1', '?').replace('$2', '?')).get(repository, digest) as
        { pullTime: string | null; pullCount: number } | undefined;
      return row && { pullTime: row.pullTime, pullCount: Number(row.pullCount) };
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: site.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pullTime: string | null; pullCount: string }>(query, [
      repository,
      digest,
    ]);
    const row = rows[0];
    return row && { pullTime: row.pullTime, pullCount: Number(row.pullCount) };
  } finally {
    await client.end();
  }
}
