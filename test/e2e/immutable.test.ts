// Tag immutability against real clients, on every metadata backend: skopeo pushes and deletes, and a
// pull-based replication from CNCF distribution into a project whose rules protect a tag.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RemoteRegistry } from '../../src/remotes/adapter.js';
import { createRemote } from '../../src/remotes/remotes.js';
import { backends } from '../helpers/berth.js';
import { containerTools, type ContainerTools } from '../helpers/containers.js';
import {
  dockerRegistryBinary,
  startDockerRegistry,
  type RunningDockerRegistry,
} from '../helpers/docker-registry.js';
import { HarborApi } from '../helpers/harbor-api.js';
import { OciLayout, tempDir } from '../helpers/images.js';
import { makeImage, useBerth } from '../helpers/registry-client.js';
import { executionLog, seedImage, settledExecution } from '../helpers/replication.js';
import { needTools } from '../helpers/tools.js';

/** Protects tags matching `tags` in repositories matching `repos` of `project`. */
async function protect(api: HarborApi, project: string, repos: string, tags: string): Promise<void> {
  await api.expect(201, 'POST', `/projects/${project}/immutabletagrules`, {
    action: 'immutable',
    template: 'immutable_template',
    tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: tags }],
    scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: repos }] },
  });
}

for (const backend of backends()) {
  describe(`tag immutability with skopeo and replication (${backend})`, () => {
    const fixture = useBerth(backend, { overrides: { jobs: { pollIntervalMs: 50 } } });
    let tools: ContainerTools | undefined;
    let work: string | undefined;
    let api: HarborApi;

    before(async () => {
      api = new HarborApi(fixture.berth.url);
      for (const p of ['locked', 'mirror']) await api.expect(201, 'POST', '/projects', { project_name: p });
      await protect(api, 'locked', '**', 'v*');
      await protect(api, 'mirror', 'app', 'v1');
      tools = containerTools();
      tools.login(fixture.berth.host, fixture.berth.admin);
      work = tempDir('immutable');
    });
    after(() => {
      tools?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    const docker = (ref: string) => `docker://${fixture.berth.host}/${ref}`;
    const copy = ['copy', '--dest-tls-verify=false'];
    const digestOf = async (ref: string) =>
      (await fixture.client.fetch(`/v2/${ref.replace(':', '/manifests/')}`, { method: 'HEAD' })).headers.get(
        'docker-content-digest',
      );

    it('skopeo pushes a protected tag once; another image under it and a delete are refused with 412', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      const layout = new OciLayout(join(work!, 'oci'));
      const first = layout.addImage({ tag: 'one', layers: [[{ path: 'a.txt', content: 'first\n' }]] });
      layout.addImage({ tag: 'two', layers: [[{ path: 'a.txt', content: 'second\n' }]] });
      await tools!.skopeo([...copy, layout.ref('one'), docker('locked/web:v1')]);
      assert.equal(await digestOf('locked/web:v1'), first.manifest.digest);

      const moved = await tools!.skopeoFails([...copy, layout.ref('two'), docker('locked/web:v1')]);
      assert.match(moved.stderr, /412|Precondition|configured as immutable/i);
      assert.equal(await digestOf('locked/web:v1'), first.manifest.digest, 'the tag did not move');

      // Berth beyond Harbor: the same image again (a retried CI push) is accepted.
      await tools!.skopeo([...copy, layout.ref('one'), docker('locked/web:v1')]);
      // A tag no rule selects takes any image.
      await tools!.skopeo([...copy, layout.ref('two'), docker('locked/web:latest')]);
      await tools!.skopeo([...copy, layout.ref('one'), docker('locked/web:latest')]);

      const deleted = await tools!.skopeoFails(['delete', '--tls-verify=false', docker('locked/web:v1')]);
      assert.match(deleted.stderr, /412|Precondition|configured as immutable/i);
      assert.equal(await digestOf('locked/web:v1'), first.manifest.digest, 'the artifact is still there');
    });

    describe('replication into the project', () => {
      let registry: RunningDockerRegistry | undefined;
      let dist: RemoteRegistry | undefined;
      after(async () => {
        await dist?.close();
        await registry?.stop();
      });

      it('a replicated tag that would move a protected one fails its task with the reason; new tags copy', async (t) => {
        if (!needTools(t, dockerRegistryBinary)) return;
        const { app } = fixture.berth;
        registry = await startDockerRegistry({ htpasswd: { alice: 's3cret' } });
        dist = createRemote({
          type: 'docker-registry',
          url: registry.url,
          credential: { type: 'basic', accessKey: 'alice', accessSecret: 's3cret' },
        });
        const [held, upstreamV1, upstreamV2] = [makeImage(), makeImage(), makeImage()];
        await fixture.client.pushImage('mirror/app', held, 'v1');
        await seedImage(dist, 'up/app', upstreamV1, 'v1');
        await seedImage(dist, 'up/app', upstreamV2, 'v2');
        const source = await app.replication.registries.create({
          name: 'dist',
          type: 'docker-registry',
          url: registry.url,
          accessKey: 'alice',
          accessSecret: 's3cret',
        });
        const policy = await app.replication.policies.create({
          name: 'into-mirror',
          src_registry: { id: source.id },
          dest_namespace: 'mirror',
          dest_namespace_replace_count: 1,
          filters: [{ type: 'name', value: 'up/**' }],
          trigger: { type: 'manual' },
        });
        const run = await settledExecution(app, await app.replication.executions.start(policy.id, 'MANUAL'));
        assert.equal(run.status, 'Failed', run.status_text);
        const { items } = await app.replication.views.tasks(run.id, { offset: 0, limit: 10 });
        assert.deepEqual(items.map((i) => [i.dst_resource, i.status]).sort(), [
          ['mirror/app:v1', 'Failed'],
          ['mirror/app:v2', 'Succeed'],
        ]);
        assert.match(await executionLog(app, run.id), /'app:v1' configured as immutable/);
        assert.equal(await digestOf('mirror/app:v1'), held.digest, 'the protected tag kept its artifact');
        assert.equal(await digestOf('mirror/app:v2'), upstreamV2.digest);
      });
    });
  });
}
