// Garbage collection through Harbor's API (/system/gc): what a run frees and keeps, dry runs, untagged
// artifacts, the schedule, stop, the log and /metrics. On SQLite and PostgreSQL, filesystem storage.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { backends } from '../../helpers/berth.js';
import type { BerthConfigInput } from '../../../src/config/schema.js';
import {
  blobRows,
  finishedGc,
  gcStorages,
  pullBlob,
  runGc,
  seedGarbageRows,
  startGc,
  type GcStorage,
} from '../../helpers/gc.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import {
  digestOf,
  makeArtifact,
  makeImage,
  makeIndex,
  uniqueRepo,
  useBerth,
  type BerthFixture,
  type Manifest,
} from '../../helpers/registry-client.js';
import { waitFor } from '../../helpers/wait.js';

const fast = { jobs: { pollIntervalMs: 50 } };

const allDigests = (m: Manifest) => [m.digest, ...m.blobs.map((b) => b.digest)];

const sharedTitle =
  'frees the blobs and manifest of an artifact deleted a moment ago; blobs shared with another project stay';
async function sharedBlobsSurvive(f: BerthFixture, storage: GcStorage): Promise<void> {
  const [one, two] = [uniqueRepo(), uniqueRepo()];
  const shared = makeImage({ layers: 2 });
  const alone = makeImage({ layers: 2 });
  await f.client.pushImage(one, shared, 'v1');
  await f.client.pushImage(two, shared, 'v1');
  await f.client.pushImage(one, alone, 'v2');
  await deleteManifest(f, one, shared.digest);
  await deleteManifest(f, one, alone.digest);

  const run = await runGc(new HarborApi(f.berth.url));
  assert.ok(Number(run.attrs.purged_blobs) >= 4, `freed ${run.attrs.purged_blobs} blobs`);
  assert.ok(Number(run.attrs.purged_manifests) >= 1);
  assert.ok(Number(run.attrs.freed_space) >= alone.bytes.length + 2048);
  for (const digest of allDigests(alone)) {
    assert.equal(await storage.has(f.berth, digest), false, `${digest} bytes deleted`);
    assert.equal((await pullBlob(f.client, one, digest)).status, 404);
  }
  for (const digest of allDigests(shared)) {
    assert.deepEqual(await pullBlob(f.client, two, digest), { status: 200, intact: true }, digest);
  }
  const manifest = await f.client.fetch(`/v2/${two}/manifests/v1`, {
    headers: { accept: shared.mediaType },
  });
  assert.equal(manifest.status, 200);
  assert.equal(Buffer.from(await manifest.arrayBuffer()).equals(shared.bytes), true);
}

const dryRunTitle = 'a dry run frees nothing and reports what a run would free';
async function dryRunFreesNothing(f: BerthFixture, storage: GcStorage): Promise<void> {
  const repo = uniqueRepo();
  const image = makeImage({ layers: 3 });
  await f.client.pushImage(repo, image, 'v1');
  await deleteManifest(f, repo, image.digest);
  const dry = await runGc(new HarborApi(f.berth.url), { dry_run: true });
  assert.equal(dry.attrs.dry_run, true);
  assert.ok(Number(dry.attrs.purged_blobs) >= 5, `would free ${dry.attrs.purged_blobs}`);
  for (const digest of allDigests(image))
    assert.equal(await storage.has(f.berth, digest), true, `${digest} kept by the dry run`);
  const log = await new HarborApi(f.berth.url).expect<string>(200, 'GET', `/system/gc/${dry.id}/log`);
  assert.match(log.text, /would delete \d+ blob\(s\)/);

  const real = await runGc(new HarborApi(f.berth.url));
  assert.equal(real.attrs.purged_blobs, dry.attrs.purged_blobs, 'the run frees what the dry run said');
  for (const digest of allDigests(image)) assert.equal(await storage.has(f.berth, digest), false);
}

async function deleteManifest(f: BerthFixture, repo: string, digest: string): Promise<void> {
  const res = await f.client.fetch(`/v2/${repo}/manifests/${digest}`, { method: 'DELETE' });
  assert.equal(res.status, 202, `delete ${repo}@${digest}`);
}

const [filesystem, s3] = gcStorages() as [GcStorage, GcStorage];

for (const backend of backends()) {
  describe(`garbage collection (${backend})`, () => {
    const f = useBerth(backend, { overrides: fast });
    const api = () => new HarborApi(f.berth.url);

    test(sharedTitle, () => sharedBlobsSurvive(f, filesystem));

    test('keeps unreferenced blobs uploaded within the grace period (a push on its way)', async () => {
      const repo = uniqueRepo();
      const image = makeImage({ layers: 2 });
      for (const blob of image.blobs) await f.client.pushBlob(repo, blob);
      const run = await runGc(api());
      assert.ok(Number(run.attrs.kept_recent) >= image.blobs.length);
      await f.client.putManifest(repo, image, 'late');
      for (const blob of image.blobs) {
        assert.deepEqual(await pullBlob(f.client, repo, blob.digest), { status: 200, intact: true });
      }
    });

    test(dryRunTitle, () => dryRunFreesNothing(f, filesystem));

    test('history, one run, its log and /metrics show what was examined, deleted and kept', async () => {
      const repo = uniqueRepo();
      const image = makeImage();
      await f.client.pushImage(repo, image, 'v1');
      await deleteManifest(f, repo, image.digest);
      const run = await runGc(api(), { workers: 3 });
      for (const key of ['blobs_examined', 'kept_referenced', 'kept_recent', 'kept_raced', 'duration_ms'])
        assert.equal(typeof run.attrs[key], 'number', key);
      assert.equal(run.attrs.workers, 3);
      assert.equal(run.job_kind, 'MANUAL');
      const history = await api().expect<{ id: number; schedule: { type: string } }[]>(
        200,
        'GET',
        '/system/gc?page=1&page_size=2',
      );
      assert.equal(history.body[0]!.id, run.id, 'newest first');
      assert.equal(history.body[0]!.schedule.type, 'Manual');
      assert.ok(Number(history.headers.get('x-total-count')) >= 2);
      const log = (await api().expect<string>(200, 'GET', `/system/gc/${run.id}/log`)).text;
      assert.match(log, /examining \d+ blob\(s\)/);
      assert.match(
        log,
        /done in [\d.]+ s: deleted \d+ blob\(s\) of which \d+ manifest\(s\), \d+ bytes; kept \d+ referenced/,
      );
      await api().expect(404, 'GET', '/system/gc/999999');
      await api().expect(404, 'GET', '/system/gc/999999/log');
      const metrics = await (await fetch(`${f.berth.url}/metrics`)).text();
      assert.match(
        metrics,
        new RegExp(`berth_gc_last_run\\{figure="blobs_deleted"\\} ${run.attrs.purged_blobs}`),
      );
      assert.match(metrics, /berth_gc_last_run\{figure="bytes_freed"\} \d+/);
    });

    test('schedule: preset and custom crons with parameters, None removes it, bad input is refused', async () => {
      const a = api();
      assert.deepEqual((await a.expect(200, 'GET', '/system/gc/schedule')).body, {});
      await a.expect(201, 'POST', '/system/gc/schedule', {
        schedule: { type: 'Daily' },
        parameters: { delete_untagged: true, workers: 4 },
      });
      let s = await a.expect<{
        schedule: { type: string; cron: string; next_scheduled_time: string };
        job_parameters: string;
      }>(200, 'GET', '/system/gc/schedule');
      assert.equal(s.body.schedule.type, 'Daily');
      assert.equal(s.body.schedule.cron, '0 0 0 * * *');
      assert.ok(Date.parse(s.body.schedule.next_scheduled_time) > Date.now());
      assert.deepEqual(JSON.parse(s.body.job_parameters), {
        delete_untagged: true,
        dry_run: false,
        workers: 4,
      });
      await a.expect(200, 'PUT', '/system/gc/schedule', {
        schedule: { type: 'Custom', cron: '0 30 2 * * 1' },
        parameters: { dry_run: true },
      });
      s = await a.expect(200, 'GET', '/system/gc/schedule');
      assert.equal(s.body.schedule.type, 'Custom');
      assert.equal(s.body.schedule.cron, '0 30 2 * * 1');
      await a.expect(400, 'PUT', '/system/gc/schedule', { schedule: { type: 'Custom', cron: 'nope' } });
      await a.expect(400, 'PUT', '/system/gc/schedule', { schedule: { type: 'Custom' } });
      await a.expect(400, 'POST', '/system/gc/schedule', {
        schedule: { type: 'Manual' },
        parameters: { workers: 11 },
      });
      await a.expect(200, 'PUT', '/system/gc/schedule', { schedule: { type: 'None' } });
      assert.deepEqual((await a.expect(200, 'GET', '/system/gc/schedule')).body, {});
    });

    test('system administrators only, or system robots granted garbage-collection (read and list here)', async () => {
      const a = api();
      const anon = await a.anonymous().call('GET', '/system/gc');
      assert.equal(anon.status, 401);
      await a.expect(201, 'POST', '/users', {
        username: 'gcplain',
        email: 'gcplain@example.test',
        realname: 'Plain',
        password: 'Plain-User-123',
      });
      const plain = a.as('gcplain', 'Plain-User-123');
      for (const [method, path] of [
        ['GET', '/system/gc'],
        ['GET', '/system/gc/schedule'],
        ['POST', '/system/gc/schedule'],
        ['PUT', '/system/gc/schedule'],
        ['GET', '/system/gc/1'],
        ['PUT', '/system/gc/1'],
        ['GET', '/system/gc/1/log'],
      ] as const) {
        const res = await plain.call(
          method,
          path,
          method === 'GET' ? undefined : { schedule: { type: 'Manual' } },
        );
        assert.equal(res.status, 403, `${method} ${path}: ${res.text}`);
      }
      const robot = await a.expect<{ name: string; secret: string }>(201, 'POST', '/robots', {
        name: 'gcwatch',
        level: 'system',
        duration: 1,
        permissions: [
          {
            kind: 'system',
            namespace: '/',
            access: [
              { resource: 'garbage-collection', action: 'list' },
              { resource: 'garbage-collection', action: 'read' },
            ],
          },
        ],
      });
      const bot = a.as(robot.body.name, robot.body.secret);
      await bot.expect(200, 'GET', '/system/gc');
      await bot.expect(200, 'GET', '/system/gc/schedule');
      assert.equal(
        (await bot.call('POST', '/system/gc/schedule', { schedule: { type: 'Manual' } })).status,
        403,
      );
    });

    test('removes upload folders left without a session once older than the grace period', async () => {
      const uploads = join(f.berth.dataDir, 'blobs', 'uploads');
      const folder = (id: string, ageMs: number) => {
        mkdirSync(join(uploads, id), { recursive: true });
        writeFileSync(join(uploads, id, 'data'), 'left by a crash');
        const when = new Date(Date.now() - ageMs);
        utimesSync(join(uploads, id, 'data'), when, when);
      };
      const [old, fresh] = [randomUUID(), randomUUID()];
      folder(old, 2 * 3600_000);
      folder(fresh, 60_000);
      // A live session whose bytes were last written as long ago keeps its folder (its row says it is live).
      const repo = uniqueRepo();
      const blob = Buffer.from('a live upload, resumed after GC');
      const patched = await f.client.fetch(await f.client.startUpload(repo), {
        method: 'PATCH',
        headers: { 'content-type': 'application/octet-stream', 'content-range': '0-9' },
        body: blob.subarray(0, 10),
      });
      assert.equal(patched.status, 202);
      const next = patched.headers.get('location')!;
      const live = new URL(next, f.berth.url).pathname.split('/').pop()!;
      const when = new Date(Date.now() - 2 * 3600_000);
      utimesSync(join(uploads, live, 'data'), when, when);

      const run = await runGc(api());
      assert.equal(run.attrs.upload_folders_purged, 1);
      assert.equal(existsSync(join(uploads, old)), false, 'the old orphan is gone');
      assert.equal(
        existsSync(join(uploads, fresh, 'data')),
        true,
        'a young folder may belong to a crash in progress',
      );
      const log = (await api().expect<string>(200, 'GET', `/system/gc/${run.id}/log`)).text;
      assert.match(log, /1 upload folder\(s\) without a session/);

      const done = await f.client.fetch(`${next}${next.includes('?') ? '&' : '?'}digest=${digestOf(blob)}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body: blob.subarray(10),
      });
      assert.equal(done.status, 201, 'the live session completes after GC');
      assert.deepEqual(await pullBlob(f.client, repo, digestOf(blob)), { status: 200, intact: true });
    });

    test('stop mid-run: the run ends Stopped, leaves nothing marked, and the next run finishes the work', async () => {
      await seedGarbageRows(f.berth.databaseUrl, 20_000);
      const a = api();
      const id = await startGc(a, { workers: 1 });
      await waitFor('the run to start', async () => {
        const { body } = await a.expect<{ job_status: string }>(200, 'GET', `/system/gc/${id}`);
        return body.job_status === 'Running';
      });
      await a.expect(409, 'POST', '/system/gc/schedule', { schedule: { type: 'Manual' } });
      await a.expect(200, 'PUT', `/system/gc/${id}`);
      const stopped = await finishedGc(a, id);
      assert.equal(stopped.job_status, 'Stopped');
      // The run finishes the batch it is deleting, then its log says where it stopped.
      const log = await waitFor('the stopped run to end', async () => {
        const text = (await a.expect<string>(200, 'GET', `/system/gc/${id}/log`)).text;
        return /Z stopped$/m.test(text) && text;
      });
      assert.match(log, /stopped in [\d.]+ s: deleted \d+ blob/);
      const next = await runGc(a);
      assert.ok(Number(next.attrs.purged_blobs) > 0, 'the next run deletes what the stopped one left');
      const rows = await blobRows(f.berth.databaseUrl);
      assert.equal(rows.marked, 0);
    });
  });

  describe(`garbage collection of untagged artifacts (${backend})`, () => {
    // A grace period of 1.2 s: untagged artifacts pushed before it are collected.
    const f = useBerth(backend, { overrides: { ...fast, registry: { gcGraceMinutes: 0.02 } } });

    test('delete_untagged removes untagged artifacts (an index, then its children) and keeps tagged ones and accessories', async () => {
      const repo = uniqueRepo();
      const tagged = makeImage();
      const loose = makeImage();
      const child = makeImage();
      const index = makeIndex([child]);
      const signature = makeArtifact(tagged, 'application/vnd.dev.cosign.artifact.sig.v1+json');
      await f.client.pushImage(repo, tagged, 'v1');
      await f.client.pushImage(repo, loose);
      await f.client.pushImage(repo, child);
      await f.client.putManifest(repo, index);
      await f.client.pushImage(repo, signature);
      await new Promise((r) => setTimeout(r, 1500));

      const a = new HarborApi(f.berth.url);
      const dry = await runGc(a, { delete_untagged: true, dry_run: true });
      // The untagged artifact, the untagged index and (as the run's next pass finds it) the index's child.
      assert.equal(dry.attrs.untagged_deleted, 3);
      const dryLog = (await a.expect<string>(200, 'GET', `/system/gc/${dry.id}/log`)).text;
      for (const m of [loose, index, child])
        assert.match(dryLog, new RegExp(`would delete untagged ${repo}@${m.digest}`));
      const head = async (m: Manifest) =>
        (await f.client.fetch(`/v2/${repo}/manifests/${m.digest}`, { method: 'HEAD' })).status;
      assert.equal(await head(loose), 200, 'a dry run deletes no artifact');

      const run = await runGc(a, { delete_untagged: true });
      assert.equal(run.attrs.untagged_deleted, 3);
      assert.equal(run.attrs.purged_blobs, dry.attrs.purged_blobs, 'the run frees what the dry run said');
      assert.equal(run.attrs.purged_manifests, dry.attrs.purged_manifests);
      assert.equal(run.attrs.freed_space, dry.attrs.freed_space);
      assert.equal(await head(loose), 404);
      assert.equal(await head(index), 404);
      assert.equal(await head(child), 404, 'an untagged index goes first, then its children');
      assert.equal(await head(tagged), 200);
      assert.equal(await head(signature), 200, 'an accessory stays with its tagged subject');
      for (const blob of loose.blobs) assert.equal((await pullBlob(f.client, repo, blob.digest)).status, 404);
      for (const blob of tagged.blobs)
        assert.deepEqual(await pullBlob(f.client, repo, blob.digest), { status: 200, intact: true });
    });
  });

  describe(`garbage collection on S3 storage (${backend})`, () => {
    const overrides: BerthConfigInput = { ...fast };
    before(async () => Object.assign(overrides, await s3.overrides()));
    const f = useBerth(backend, { overrides });
    test(sharedTitle, () => sharedBlobsSurvive(f, s3));
    test(dryRunTitle, () => dryRunFreesNothing(f, s3));
  });
}
