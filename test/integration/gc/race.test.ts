// Online GC: pushes go on while a run sweeps, on filesystem and S3 storage. A manifest accepted during the sweep must pull back whole;
// a push that loses a race to the sweep is refused (MANIFEST_BLOB_UNKNOWN), never accepted half-deleted.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { BerthConfigInput } from '../../../src/config/schema.js';
import { backends, type Backend } from '../../helpers/berth.js';
import {
  blobRows,
  finishedGc,
  gcStorages,
  pullBlob,
  seedGarbageRows,
  startGc,
  type GcStorage,
} from '../../helpers/gc.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { makeImage, uniqueRepo, useBerth, type Manifest } from '../../helpers/registry-client.js';
import { waitFor } from '../../helpers/wait.js';

const storages = gcStorages();

for (const backend of backends()) {
  for (const storage of storages) describeRace(backend, storage);
}

function describeRace(backend: Backend, storage: GcStorage): void {
  describe(`garbage collection races pushes (${backend}, ${storage.name})`, () => {
    const overrides: BerthConfigInput = { jobs: { pollIntervalMs: 50 } };
    before(async () => Object.assign(overrides, await storage.overrides()));
    const f = useBerth(backend, { overrides });

    async function put(repo: string, m: Manifest, reference: string): Promise<Response> {
      const res = await f.client.fetch(`/v2/${repo}/manifests/${reference}`, {
        method: 'PUT',
        headers: { 'content-type': m.mediaType },
        body: new Uint8Array(m.bytes),
      });
      return res;
    }

    async function assertWhole(repo: string, m: Manifest, what: string): Promise<void> {
      for (const blob of m.blobs) {
        assert.deepEqual(await pullBlob(f.client, repo, blob.digest), { status: 200, intact: true }, what);
      }
      const res = await f.client.fetch(`/v2/${repo}/manifests/${m.digest}`, {
        headers: { accept: m.mediaType },
      });
      assert.equal(res.status, 200, what);
      assert.equal(Buffer.from(await res.arrayBuffer()).equals(m.bytes), true, what);
    }

    test('manifests pushed while GC sweeps pull back whole; pushes that lose the race are refused', async () => {
      const api = new HarborApi(f.berth.url);
      const repo = uniqueRepo();
      // A long sweep: rows of garbage before the real candidates.
      // (Fewer on S3, where each delete is a listing and a request to the server.)
      await seedGarbageRows(f.berth.databaseUrl, storage.name === 's3' ? 2_000 : 8_000);
      // Uploaded before GC starts, referenced by a manifest PUT while it sweeps.
      const early = makeImage({ layers: 3 });
      for (const blob of early.blobs) await f.client.pushBlob(repo, blob);
      // Pushed and deleted: their blobs are garbage at once, and these pushes keep coming back for them.
      const churn = Array.from({ length: 4 }, () => makeImage({ layers: 2 }));
      for (const m of churn) {
        await f.client.pushImage(repo, m);
        assert.equal(
          (await f.client.fetch(`/v2/${repo}/manifests/${m.digest}`, { method: 'DELETE' })).status,
          202,
        );
      }

      const id = await startGc(api, { workers: 4 });
      await waitFor('the run to start', async () => {
        const { body } = await api.expect<{ job_status: string }>(200, 'GET', `/system/gc/${id}`);
        return body.job_status !== 'Pending';
      });
      let running = true;
      const ended = finishedGc(api, id, 300_000).finally(() => (running = false));

      const early201 = await put(repo, early, 'early');
      assert.equal(early201.status, 201, 'blobs uploaded before the run are kept for their manifest');
      let accepted = 0;
      let refused = 0;
      await Promise.all(
        churn.map(async (m, i) => {
          while (running) {
            const res = await put(repo, m, `churn${i}`);
            const text = await res.text();
            if (res.status === 201) {
              accepted++;
              await assertWhole(repo, m, `churn${i} accepted during the sweep`);
              const del = await f.client.fetch(`/v2/${repo}/manifests/${m.digest}`, { method: 'DELETE' });
              assert.equal(del.status, 202);
            } else {
              assert.equal(res.status, 400, text);
              assert.match(text, /MANIFEST_BLOB_UNKNOWN/);
              refused++;
              // As a client does: upload the blobs again, then retry the manifest.
              for (const blob of m.blobs) await f.client.pushBlob(repo, blob);
            }
          }
        }),
      );
      const run = await ended;
      assert.equal(run.job_status, 'Success', JSON.stringify(run));
      assert.ok(accepted + refused > 0, 'pushes ran during the sweep');

      await assertWhole(repo, early, 'the manifest pushed during the sweep');
      for (const [i, m] of churn.entries()) {
        const res = await put(repo, m, `final${i}`);
        if (res.status !== 201) {
          for (const blob of m.blobs) await f.client.pushBlob(repo, blob);
          assert.equal((await put(repo, m, `final${i}`)).status, 201);
        }
        await assertWhole(repo, m, `churn${i} after the run`);
      }
      assert.equal((await blobRows(f.berth.databaseUrl)).marked, 0, 'no blob is left marked');
      process.stderr.write(
        `[gc race ${backend} ${storage.name}] ${accepted} manifest PUT(s) accepted and ${refused} refused during a ${run.attrs.duration_ms} ms run (${run.attrs.purged_blobs} blobs deleted, ${run.attrs.kept_raced} kept by a racing push)\n`,
      );
    });
  });
}
