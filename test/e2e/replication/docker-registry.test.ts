import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RemoteRegistry } from '../../../src/remotes/adapter.js';
import { createRemote } from '../../../src/remotes/remotes.js';
import { backends } from '../../helpers/berth.js';
import {
  dockerRegistryBinary,
  startDockerRegistry,
  type RunningDockerRegistry,
} from '../../helpers/docker-registry.js';
import { makeImage, useBerth } from '../../helpers/registry-client.js';
import { executionLog, executionsOf, seedImage, settledExecution } from '../../helpers/replication.js';
import { hasTool, needTools } from '../../helpers/tools.js';
import { waitFor } from '../../helpers/wait.js';

/** Blob downloads the registry served, counted from its access log. */
function blobGets(registry: RunningDockerRegistry): number {
  return registry.log().match(/"GET \/v2\/[^ ]+\/blobs\/sha256:[0-9a-f]{64} HTTP\/1\.1" 200/g)?.length ?? 0;
}

for (const backend of backends()) {
  describe(`replication with CNCF distribution (${backend})`, () => {
    const fixture = useBerth(backend, { overrides: { jobs: { pollIntervalMs: 50 } } });
    let registry: RunningDockerRegistry | undefined;
    let dist: RemoteRegistry;
    let registryId: number;
    const v1 = makeImage({ layers: 2, layerSize: 50_000 });
    const v2 = makeImage({ layers: 2, layerSize: 50_000 });
    const dev = makeImage({ layers: 1, layerSize: 10_000 });
    const tool = makeImage({ layers: 1, layerSize: 10_000 });

    before(async () => {
      if (!hasTool(dockerRegistryBinary)) return;
      registry = await startDockerRegistry({ htpasswd: { alice: 's3cret' } });
      dist = createRemote({
        type: 'docker-registry',
        url: registry.url,
        credential: { type: 'basic', accessKey: 'alice', accessSecret: 's3cret' },
      });
      await seedImage(dist, 'upstream/app', v1, 'v1');
      await seedImage(dist, 'upstream/app', v2, 'v2');
      await seedImage(dist, 'upstream/app', dev, 'dev');
      await seedImage(dist, 'other/tool', tool, 'v1');
      const row = await fixture.berth.app.replication.registries.create({
        name: 'dist',
        type: 'docker-registry',
        url: registry.url,
        accessKey: 'alice',
        accessSecret: 's3cret',
      });
      registryId = row.id;
    });
    after(async () => {
      await dist?.close();
      await registry?.stop();
    });

    it('keeps the registry secret sealed at rest and masked in views', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { registries } = fixture.berth.app.replication;
      const row = await registries.get(registryId);
      assert.match(row.access_secret, /^v1:/);
      assert.ok(!row.access_secret.includes('s3cret'));
      assert.equal(registries.view(row).credential.access_secret, '*****');
      await registries.ping({ id: registryId });
    });

    it('a wrong secret fails ping with a message naming the registry and the refusal', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { registries } = fixture.berth.app.replication;
      await assert.rejects(
        registries.ping({
          type: 'docker-registry',
          url: registry!.url,
          accessKey: 'alice',
          accessSecret: 'nope',
        }),
        /authentication failed for .*401/,
      );
      await assert.rejects(
        registries.ping({ id: registryId, accessSecret: 'nope' }),
        /authentication failed/,
      );
    });

    it('pull-based manual: copies the matching repositories and tags, flattened; a second run copies nothing', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { app } = fixture.berth;
      const policy = await app.replication.policies.create({
        name: 'pull-app',
        src_registry: { id: registryId },
        dest_namespace: 'mirror',
        dest_namespace_replace_count: 1,
        filters: [
          { type: 'name', value: 'upstream/**' },
          { type: 'tag', value: 'v*' },
        ],
        trigger: { type: 'manual' },
      });
      const first = await settledExecution(app, await app.replication.executions.start(policy.id, 'MANUAL'));
      assert.equal(first.status, 'Succeed', first.status_text);
      assert.equal(first.total, 2);
      assert.equal(first.succeed, 2);
      for (const [tag, image] of [
        ['v1', v1],
        ['v2', v2],
      ] as const) {
        const res = await fixture.client.fetch(`/v2/mirror/app/manifests/${tag}`, { method: 'HEAD' });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('docker-content-digest'), image.digest);
      }
      assert.equal(
        (await fixture.client.fetch('/v2/mirror/app/manifests/dev', { method: 'HEAD' })).status,
        404,
      );
      assert.equal(
        (await fixture.client.fetch('/v2/mirror/tool/manifests/v1', { method: 'HEAD' })).status,
        404,
      );
      const { items } = await app.replication.views.tasks(first.id, { offset: 0, limit: 10 });
      assert.deepEqual(
        items.map((i) => i.status),
        ['Succeed', 'Succeed'],
      );
      assert.deepEqual(items.map((i) => i.dst_resource).sort(), ['mirror/app:v1', 'mirror/app:v2']);
      assert.match(await executionLog(app, first.id), /blob sha256:[0-9a-f]{64} \(50\d+ bytes\): copied/);

      const gets = blobGets(registry!);
      const second = await settledExecution(app, await app.replication.executions.start(policy.id, 'MANUAL'));
      assert.equal(second.status, 'Succeed');
      assert.equal(blobGets(registry!), gets, 'no blob downloaded again');
      const log = await executionLog(app, second.id);
      assert.equal(log.match(/already up to date at the destination/g)?.length, 2, log);
    });

    it('pull-based scheduled: the cron fires executions; disabling the policy removes the schedule', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { app } = fixture.berth;
      const policy = await app.replication.policies.create({
        name: 'pull-scheduled',
        src_registry: { id: registryId },
        dest_namespace: 'scheduled',
        dest_namespace_replace_count: -1,
        filters: [{ type: 'name', value: 'other/*' }],
        trigger: { type: 'scheduled', trigger_settings: { cron: '*/2 * * * * *' } },
      });
      const fired = await waitFor(
        'a scheduled execution',
        async () => (await executionsOf(app, policy.id)).find((e) => e.trigger === 'SCHEDULE'),
        15_000,
      );
      const done = await settledExecution(app, fired.id);
      assert.equal(done.status, 'Succeed', done.status_text);
      const res = await fixture.client.fetch('/v2/scheduled/tool/manifests/v1', { method: 'HEAD' });
      assert.equal(res.headers.get('docker-content-digest'), tool.digest);
      // The next firing finds everything in place: no blob is downloaded again.
      const gets = blobGets(registry!);
      const next = await waitFor(
        'a second scheduled execution',
        async () =>
          (await executionsOf(app, policy.id)).find((e) => e.trigger === 'SCHEDULE' && e.id > fired.id),
        15_000,
      );
      const again = await settledExecution(app, next.id);
      assert.equal(again.status, 'Succeed', again.status_text);
      assert.match(await executionLog(app, again.id), /already up to date at the destination/);
      assert.equal(blobGets(registry!), gets, 'the second run copied nothing');
      await app.replication.policies.update(policy.id, {
        name: 'pull-scheduled',
        src_registry: { id: registryId },
        trigger: { type: 'scheduled', trigger_settings: { cron: '*/2 * * * * *' } },
        enabled: false,
      });
      assert.equal(await app.jobs.scheduler.remove(`replication.policy.${policy.id}`), false);
    });

    it('push-based event: a push to Berth appears in distribution with the same digest; a delete follows', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { app } = fixture.berth;
      const policy = await app.replication.policies.create({
        name: 'push-web',
        dest_registry: { id: registryId },
        dest_namespace: 'pushed',
        dest_namespace_replace_count: 0,
        filters: [{ type: 'name', value: 'library/**' }],
        trigger: { type: 'event_based' },
        replicate_deletion: true,
      });
      const image = makeImage({ layers: 2, layerSize: 30_000 });
      await fixture.client.pushImage('library/web', image, 'v1');
      const exec = await waitFor(
        'an event-based execution',
        async () => (await executionsOf(app, policy.id))[0],
      );
      const done = await settledExecution(app, exec.id);
      assert.equal(done.status, 'Succeed', done.status_text);
      assert.equal(done.trigger, 'EVENT_BASED');
      const there = await dist.headManifest('pushed/library/web', 'v1');
      assert.equal(there?.digest, image.digest);

      const del = await fixture.client.fetch(`/v2/library/web/manifests/${image.digest}`, {
        method: 'DELETE',
      });
      assert.equal(del.status, 202);
      await waitFor(
        'the remote copy to be deleted',
        async () => (await dist.headManifest('pushed/library/web', image.digest)) === null,
      );
      const [latest] = await executionsOf(app, policy.id);
      const settled = await settledExecution(app, latest!.id);
      const tasks = await app.replication.views.tasks(settled.id, { offset: 0, limit: 10 });
      assert.equal(tasks.items[0]?.operation, 'deletion');
    });
  });
}
