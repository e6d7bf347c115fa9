// Push-based replication driven through Berth's HTTP API and real clients: a skopeo push replicated by an
// event-based rule into Debian's docker-registry (and a skopeo delete followed only where the rule says
// so), label filters on local artifacts, and stopping an execution (PUT /replication/executions/{id}).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RemoteRegistry } from '../../../src/remotes/adapter.js';
import { createRemote } from '../../../src/remotes/remotes.js';
import { backends } from '../../helpers/berth.js';
import { containerTools, type ContainerTools } from '../../helpers/containers.js';
import {
  dockerRegistryBinary,
  startDockerRegistry,
  type RunningDockerRegistry,
} from '../../helpers/docker-registry.js';
import { OciLayout, tempDir } from '../../helpers/images.js';
import { makeImage, useBerth, type BerthFixture } from '../../helpers/registry-client.js';
import { executionsOf, settledExecution } from '../../helpers/replication.js';
import { hasTool, needTools } from '../../helpers/tools.js';
import { waitFor } from '../../helpers/wait.js';

interface TaskJson {
  id: number;
  status: string;
  src_resource: string;
  start_time: string | null;
}

/** JSON API calls as the test admin; asserts a 2xx answer. */
function apiOf(fixture: BerthFixture) {
  return async (method: string, path: string, body?: unknown): Promise<Response> => {
    const res = await fixture.client.fetch(`/api/v2.0${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
    return res;
  };
}

const idOf = (res: Response) => Number(res.headers.get('location')!.split('/').pop());

for (const backend of backends()) {
  describe(`push-based replication rules (${backend})`, () => {
    // One copy task at a time, so the stop test has a running task and pending ones behind it.
    const fixture = useBerth(backend, {
      overrides: { jobs: { pollIntervalMs: 50, concurrency: { 'replication.copy': 1 } } },
    });
    const api = apiOf(fixture);
    let registry: RunningDockerRegistry | undefined;
    let dist: RemoteRegistry;
    let registryId: number;
    let tools: ContainerTools | undefined;
    let work: string | undefined;

    before(async () => {
      if (!hasTool(dockerRegistryBinary)) return;
      registry = await startDockerRegistry({ logLevel: 'warn' });
      dist = createRemote({ type: 'docker-registry', url: registry.url });
      registryId = idOf(
        await api('POST', '/registries', { name: 'dist', type: 'docker-registry', url: registry.url }),
      );
    });
    after(async () => {
      await dist?.close();
      await registry?.stop();
      tools?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('event-based: a skopeo push appears in docker-registry with the same digest; a skopeo delete follows only where the rule says so', async (t) => {
      if (!needTools(t, dockerRegistryBinary, 'skopeo')) return;
      const { berth } = fixture;
      await berth.createProject('events');
      const rule = (name: string, namespace: string, deletion: boolean) =>
        api('POST', '/replication/policies', {
          name,
          dest_registry: { id: registryId },
          dest_namespace: namespace,
          dest_namespace_replace_count: 1,
          filters: [{ type: 'name', value: 'events/**' }],
          trigger: { type: 'event_based' },
          replicate_deletion: deletion,
        });
      const follows = idOf(await rule('follow-deletes', 'mirror-a', true));
      const keeps = idOf(await rule('keep-on-delete', 'mirror-b', false));

      tools = containerTools();
      tools.login(berth.host, berth.admin);
      work = tempDir('push-rules');
      const layout = new OciLayout(work);
      const image = layout.addImage({
        tag: 'v1',
        layers: [[{ path: 'srv/www/index.html', content: 'replicated by an event\n' }], [{ path: 'x.bin' }]],
      });
      await tools.skopeo([
        'copy',
        '--dest-tls-verify=false',
        layout.ref('v1'),
        `docker://${berth.host}/events/web:v1`,
      ]);

      for (const [policyId, repo] of [
        [follows, 'mirror-a/web'],
        [keeps, 'mirror-b/web'],
      ] as const) {
        const exec = await waitFor('an event-based execution', async () =>
          (await executionsOf(berth.app, policyId)).find((e) => e.trigger === 'EVENT_BASED'),
        );
        const done = await settledExecution(berth.app, exec.id);
        assert.equal(done.status, 'Succeed', done.status_text);
        assert.equal((await dist.headManifest(repo, 'v1'))?.digest, image.manifest.digest);
        for (const layer of image.layers) assert.equal(await dist.headBlob(repo, layer.digest), layer.size);
      }

      await tools.skopeo(['delete', '--tls-verify=false', `docker://${berth.host}/events/web:v1`]);
      await waitFor(
        'the copy under the deleting rule to go',
        async () => (await dist.headManifest('mirror-a/web', image.manifest.digest)) === null,
      );
      const [latest] = await executionsOf(berth.app, follows);
      const settled = await settledExecution(berth.app, latest!.id);
      assert.equal(settled.status, 'Succeed', settled.status_text);
      const tasks = await berth.app.replication.views.tasks(settled.id, { offset: 0, limit: 10 });
      assert.equal(tasks.items[0]?.operation, 'deletion');
      // The other rule does not replicate deletions: no execution for the delete, the copy stays.
      assert.equal((await executionsOf(berth.app, keeps)).length, 1);
      assert.equal((await dist.headManifest('mirror-b/web', 'v1'))?.digest, image.manifest.digest);

      // Deleting a whole repository through the API deletes each of its artifacts remotely too.
      const other = makeImage({ layers: 1, layerSize: 10_000 });
      await fixture.client.pushImage('events/api', other, 'v2');
      await waitFor(
        'the push to reach both mirrors',
        async () =>
          (await dist.headManifest('mirror-a/api', 'v2'))?.digest === other.digest &&
          (await dist.headManifest('mirror-b/api', 'v2'))?.digest === other.digest,
      );
      await api('DELETE', '/projects/events/repositories/api');
      await waitFor(
        'the repository deletion to reach the deleting rule',
        async () => (await dist.headManifest('mirror-a/api', other.digest)) === null,
      );
      assert.equal((await dist.headManifest('mirror-b/api', 'v2'))?.digest, other.digest);
    });

    it('label filters select local artifacts by the labels attached through the API', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { berth, client } = fixture;
      const release = makeImage({ layers: 1, layerSize: 20_000 });
      const nightly = makeImage({ layers: 1, layerSize: 20_000 });
      await client.pushImage('labeled/app', release, 'v1');
      await client.pushImage('labeled/app', nightly, 'nightly');
      const label = idOf(await api('POST', '/labels', { name: 'release', scope: 'g' }));
      await api('POST', `/projects/labeled/repositories/app/artifacts/${release.digest}/labels`, {
        id: label,
      });

      const run = async (name: string, decoration: 'matches' | 'excludes', namespace: string) => {
        const policyId = idOf(
          await api('POST', '/replication/policies', {
            name,
            dest_registry: { id: registryId },
            dest_namespace: namespace,
            dest_namespace_replace_count: 1,
            filters: [
              { type: 'name', value: 'labeled/**' },
              { type: 'label', value: ['release'], decoration },
            ],
            trigger: { type: 'manual' },
          }),
        );
        const id = idOf(await api('POST', '/replication/executions', { policy_id: policyId }));
        const done = await settledExecution(berth.app, id);
        assert.equal(done.status, 'Succeed', done.status_text);
        assert.equal(done.total, 1, `${name}: one artifact selected`);
      };
      await run('with-release-label', 'matches', 'released');
      assert.equal((await dist.headManifest('released/app', 'v1'))?.digest, release.digest);
      assert.equal(await dist.headManifest('released/app', 'nightly'), null);

      await run('without-release-label', 'excludes', 'unreleased');
      assert.equal((await dist.headManifest('unreleased/app', 'nightly'))?.digest, nightly.digest);
      assert.equal(await dist.headManifest('unreleased/app', 'v1'), null);
    });

    it('event-based: a tag added through the API replicates the artifact, and the label filter sees its labels', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { berth, client } = fixture;
      const policyId = idOf(
        await api('POST', '/replication/policies', {
          name: 'promoted-only',
          dest_registry: { id: registryId },
          dest_namespace: 'promoted',
          dest_namespace_replace_count: 1,
          filters: [
            { type: 'name', value: 'retag/**' },
            { type: 'label', value: ['promoted'] },
          ],
          trigger: { type: 'event_based' },
        }),
      );
      const image = makeImage({ layers: 1, layerSize: 20_000 });
      await client.pushImage('retag/app', image, 'v1');
      // The push commits with whatever it causes: unlabeled, it causes nothing.
      assert.deepEqual(await executionsOf(berth.app, policyId), []);

      const label = idOf(await api('POST', '/labels', { name: 'promoted', scope: 'g' }));
      await api('POST', '/projects/retag/repositories/app/artifacts/v1/labels', { id: label });
      await api('POST', '/projects/retag/repositories/app/artifacts/v1/tags', { name: 'stable' });
      const [execution] = await executionsOf(berth.app, policyId);
      assert.ok(execution, 'the tag creation committed an execution');
      const done = await settledExecution(berth.app, execution.id);
      assert.equal(done.status, 'Succeed', done.status_text);
      assert.equal((await dist.headManifest('promoted/app', 'stable'))?.digest, image.digest);
      assert.equal(await dist.headManifest('promoted/app', 'v1'), null, 'only the new tag is replicated');
    });

    it('stopping an execution stops its running task, pending tasks never start, nothing half-written remains', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { berth, client } = fixture;
      const images = ['a', 'b', 'c'].map((name) => ({
        repo: `stopping/${name}`,
        image: makeImage({ layers: 1, layerSize: 1_500_000 }),
      }));
      for (const { repo, image } of images) await client.pushImage(repo, image, 'v1');
      const policyId = idOf(
        await api('POST', '/replication/policies', {
          name: 'to-stop',
          dest_registry: { id: registryId },
          filters: [{ type: 'name', value: 'stopping/**' }],
          trigger: { type: 'manual' },
          speed: 200, // KB/s: each layer takes about 7 s
        }),
      );
      const id = idOf(await api('POST', '/replication/executions', { policy_id: policyId }));
      const tasks = async () =>
        (await (await api('GET', `/replication/executions/${id}/tasks`)).json()) as TaskJson[];
      const running = await waitFor(
        'a task to copy',
        async () => {
          const list = await tasks();
          return list.length === 3 && list.find((x) => x.status === 'InProgress');
        },
        30_000,
      );
      await waitFor('bytes to flow', async () =>
        /copying/.test(await berth.app.replication.views.taskLog(id, running.id)),
      );
      await new Promise((r) => setTimeout(r, 1000));

      await api('PUT', `/replication/executions/${id}`);
      const stopped = await waitFor(
        'the execution to end',
        async () => {
          const e = (await (await api('GET', `/replication/executions/${id}`)).json()) as {
            status: string;
            stopped: number;
          };
          return e.status !== 'InProgress' && e;
        },
        30_000,
      );
      assert.equal(stopped.status, 'Stopped');
      assert.equal(stopped.stopped, 3);
      // Give a worker every chance to (wrongly) pick up a pending task.
      await new Promise((r) => setTimeout(r, 1500));
      const final = await tasks();
      assert.deepEqual(
        final.map((x) => x.status),
        ['Stopped', 'Stopped', 'Stopped'],
      );
      for (const task of final.filter((x) => x.id !== running.id)) {
        assert.equal(task.start_time, null, `${task.src_resource} must never start`);
        assert.equal(await berth.app.replication.views.taskLog(id, task.id), '');
      }
      assert.match(await berth.app.replication.views.taskLog(id, running.id), /stopped/);
      for (const { repo, image } of images) {
        assert.equal(await dist.headManifest(repo, 'v1'), null, `no manifest for ${repo}`);
        assert.equal(await dist.headManifest(repo, image.digest), null);
        const layer = image.blobs.find((b) => b.bytes.length === 1_500_000)!;
        assert.equal(await dist.headBlob(repo, layer.digest), null, `no partial layer for ${repo}`);
      }
    });
  });
}
