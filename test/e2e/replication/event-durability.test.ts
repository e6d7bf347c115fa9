// The replication job of an event-based rule is written in the push's own transaction: when the push
// answers 201 the execution and its task are already committed, so a Berth killed right after the push
// (before any worker ran) still replicates the image once it is back.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createRemote } from '../../../src/remotes/remotes.js';
import { backends } from '../../helpers/berth.js';
import { spawnBerth, type BerthProcess } from '../../helpers/berth-process.js';
import { dockerRegistryBinary, startDockerRegistry } from '../../helpers/docker-registry.js';
import { createDatabase } from '../../helpers/postgres.js';
import { makeImage, RegistryClient, useBerth } from '../../helpers/registry-client.js';
import { executionsOf } from '../../helpers/replication.js';
import { needTools } from '../../helpers/tools.js';
import { waitFor } from '../../helpers/wait.js';

interface ExecutionJson {
  id: number;
  status: string;
  status_text: string;
  trigger: string;
  total: number;
  in_progress: number;
}

for (const backend of backends()) {
  describe(`a push and its replication task commit together (${backend})`, () => {
    const fixture = useBerth(backend);

    it('when writing the jobs fails, the push fails and leaves nothing behind', async () => {
      const { app } = fixture.berth;
      const reg = await app.replication.registries.create({
        name: 'unreachable',
        type: 'docker-registry',
        url: 'http://127.0.0.1:9',
      });
      const policy = await app.replication.policies.create({
        name: 'atomic',
        dest_registry: { id: reg.id },
        filters: [{ type: 'name', value: 'atomic/**' }],
        trigger: { type: 'event_based' },
      });
      // A later subscriber in the same transaction fails after replication wrote its execution and task.
      app.events.onTransaction('ArtifactPushed', async (_tx, e) => {
        if (e.repository === 'atomic/refused') throw new Error('job table unavailable');
      });
      const image = makeImage({ layers: 1, layerSize: 1000 });
      for (const b of image.blobs) await fixture.client.pushBlob('atomic/refused', b);
      const res = await fixture.client.fetch(`/v2/atomic/refused/manifests/v1`, {
        method: 'PUT',
        headers: { 'content-type': image.mediaType },
        body: new Uint8Array(image.bytes),
      });
      await res.body?.cancel();
      assert.equal(res.status, 500);
      const head = await fixture.client.fetch('/v2/atomic/refused/manifests/v1', { method: 'HEAD' });
      assert.equal(head.status, 404, 'the artifact rolled back with the failed job write');
      assert.deepEqual(await executionsOf(app, policy.id), [], 'and so did the execution');

      await fixture.client.pushImage('atomic/kept', image, 'v1');
      const [execution] = await executionsOf(app, policy.id);
      assert.equal(execution?.total, 1, 'a push that commits carries its task');
    });
  });

  describe(`event-based replication survives a crash after the push (${backend})`, () => {
    it('the push commits its replication task; killed before any worker ran, Berth replicates after a restart', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const registry = await startDockerRegistry({ logLevel: 'warn' });
      const dataDir = mkdtempSync(join(tmpdir(), 'berth-outbox-'));
      const databaseUrl =
        backend === 'postgres' ? await createDatabase(process.env.BERTH_TEST_PG_URL!) : undefined;
      const base = { dataDir, databaseUrl, startTimeoutMs: 90_000 };
      let berth: BerthProcess | undefined;
      try {
        // First life: HTTP only, no job worker, so nothing can run the task before the kill.
        berth = await spawnBerth({ ...base, env: { BERTH_JOBS_WORKERS: '0' } });
        const api = async (method: string, path: string, body?: unknown) => {
          const res = await new RegistryClient(berth!.url).fetch(`/api/v2.0${path}`, {
            method,
            headers: body === undefined ? {} : { 'content-type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
          return res;
        };
        const idOf = (res: Response) => Number(res.headers.get('location')!.split('/').pop());
        await api('POST', '/projects', { project_name: 'outbox' });
        const registryId = idOf(
          await api('POST', '/registries', { name: 'peer', type: 'docker-registry', url: registry.url }),
        );
        const policyId = idOf(
          await api('POST', '/replication/policies', {
            name: 'on-push',
            dest_registry: { id: registryId },
            filters: [{ type: 'name', value: 'outbox/**' }],
            trigger: { type: 'event_based' },
          }),
        );
        const executions = async () =>
          (await (
            await api('GET', `/replication/executions?policy_id=${policyId}`)
          ).json()) as ExecutionJson[];

        const image = makeImage({ layers: 2, layerSize: 40_000 });
        await new RegistryClient(berth.url).pushImage('outbox/app', image, 'v1');
        // No waiting: the 201 came after the commit that holds the execution and its task.
        const [pending] = await executions();
        assert.ok(pending, 'the push committed an execution');
        assert.equal(pending.trigger, 'EVENT_BASED');
        assert.equal(pending.total, 1);
        assert.equal(pending.in_progress, 1, 'its task waits for a worker');
        await berth.kill('SIGKILL');

        // Second life: workers on; the task committed with the push runs now.
        berth = await spawnBerth({ ...base, env: { BERTH_JOBS_POLL_INTERVAL_MS: '100' } });
        const done = await waitFor(
          'the execution to end after the restart',
          async () => {
            const e = (await executions()).find((x) => x.id === pending.id);
            return e && e.status !== 'InProgress' && e;
          },
          60_000,
        );
        assert.equal(done.status, 'Succeed', done.status_text);
        assert.equal((await executions()).length, 1, 'one execution, not a second one from a replay');
        const dist = createRemote({ type: 'docker-registry', url: registry.url });
        try {
          assert.equal((await dist.headManifest('outbox/app', 'v1'))?.digest, image.digest);
        } finally {
          await dist.close();
        }
      } finally {
        await berth?.stop();
        await registry.stop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
}
