// GC survives kill -9 mid-sweep: Berth runs as a child process, is SIGKILLed while a run deletes, and is
// started again on the same data folder and database. The interrupted run is taken over and finishes
// what it had marked, a second run completes, and every artifact that remains pulls back whole.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { backends } from '../../helpers/berth.js';
import { spawnBerth, type BerthProcess } from '../../helpers/berth-process.js';
import { blobRows, finishedGc, pullBlob, runGc, seedGarbageRows, startGc } from '../../helpers/gc.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { createDatabase } from '../../helpers/postgres.js';
import { makeImage, RegistryClient, type Manifest } from '../../helpers/registry-client.js';
import { waitFor } from '../../helpers/wait.js';

const env = { BERTH_JOBS_LEASE_SECONDS: '2', BERTH_JOBS_POLL_INTERVAL_MS: '50' };

for (const backend of backends()) {
  describe(`garbage collection after kill -9 (${backend})`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'berth-gc-crash-'));
    let berth: BerthProcess | undefined;
    after(async () => {
      await berth?.stop(2000);
      rmSync(dataDir, { recursive: true, force: true });
    });

    test('a run killed mid-sweep is finished after restart, a second run completes, every artifact left pulls', async () => {
      const databaseUrl =
        backend === 'sqlite'
          ? `sqlite:${join(dataDir, 'berth.db')}`
          : await createDatabase(process.env.BERTH_TEST_PG_URL!);
      const site = {
        dataDir,
        ...(backend === 'postgres' ? { databaseUrl } : {}),
        env,
        startTimeoutMs: 120_000,
      };
      berth = await spawnBerth(site);
      let api = new HarborApi(berth.url);
      await api.expect(201, 'POST', '/projects', { project_name: 'crash' });
      let client = new RegistryClient(berth.url);
      const kept: Manifest[] = [];
      const dropped: Manifest[] = [];
      for (let i = 0; i < 5; i++) {
        const keep = makeImage({ layers: 2 });
        await client.pushImage('crash/app', keep, `v${i}`);
        kept.push(keep);
        const drop = makeImage({ layers: 2 });
        await client.pushImage('crash/app', drop);
        assert.equal(
          (await client.fetch(`/v2/crash/app/manifests/${drop.digest}`, { method: 'DELETE' })).status,
          202,
        );
        dropped.push(drop);
      }
      await seedGarbageRows(databaseUrl, 20_000);
      const before = await blobRows(databaseUrl);

      const id = await startGc(api, { workers: 2 });
      await waitFor(
        'the sweep to delete some rows',
        async () => (await blobRows(databaseUrl)).total < before.total - 1000,
        60_000,
        20,
      );
      await berth.kill('SIGKILL');
      const mid = await blobRows(databaseUrl);
      assert.ok(mid.total > before.total - 20_000, 'killed before the sweep ended');

      berth = await spawnBerth(site);
      api = new HarborApi(berth.url);
      client = new RegistryClient(berth.url);
      const resumed = await finishedGc(api, id, 120_000);
      assert.equal(resumed.job_status, 'Success', 'the interrupted run is taken over and completes');
      const log = (await api.expect<string>(200, 'GET', `/system/gc/${id}/log`)).text;
      assert.match(log, /attempt 2 of 3/);
      const second = await runGc(api);
      assert.equal(second.attrs.purged_blobs, 0, 'nothing was left behind');
      assert.equal((await blobRows(databaseUrl)).marked, 0);

      for (const [i, m] of kept.entries()) {
        const res = await client.fetch(`/v2/crash/app/manifests/v${i}`, { headers: { accept: m.mediaType } });
        assert.equal(res.status, 200);
        assert.equal(Buffer.from(await res.arrayBuffer()).equals(m.bytes), true);
        for (const blob of m.blobs)
          assert.deepEqual(await pullBlob(client, 'crash/app', blob.digest), { status: 200, intact: true });
      }
      for (const m of dropped) {
        for (const digest of [m.digest, ...m.blobs.map((b) => b.digest)]) {
          const hex = digest.slice('sha256:'.length);
          assert.equal(
            existsSync(join(dataDir, 'blobs', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data')),
            false,
          );
        }
      }
    });
  });
}
