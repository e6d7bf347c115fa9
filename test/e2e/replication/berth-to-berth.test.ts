import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backends } from '../../helpers/berth.js';
import { makeImage, makeIndex, useBerth } from '../../helpers/registry-client.js';
import { executionLog, settledExecution } from '../../helpers/replication.js';

for (const backend of backends()) {
  describe(`Berth to Berth with the harbor adapter (${backend})`, () => {
    const source = useBerth(backend, { overrides: { jobs: { pollIntervalMs: 50 } } });
    const target = useBerth(backend);

    it('push-based manual: rewrites the namespace with each flattening level, index with its children', async () => {
      const { app } = source.berth;
      const image = makeImage({ layers: 2, layerSize: 40_000 });
      const children = [makeImage({ layers: 1 }), makeImage({ layers: 1, architecture: 'arm64' })];
      const index = makeIndex(children);
      await source.client.pushImage('team/apps/web', image, 'v1');
      for (const c of children) await source.client.pushImage('team/apps/multi', c);
      await source.client.putManifest('team/apps/multi', index, 'v2');

      const peer = await app.replication.registries.create({
        name: 'peer',
        type: 'harbor',
        url: target.berth.url,
        accessKey: target.berth.admin.username,
        accessSecret: target.berth.admin.password,
      });
      await app.replication.registries.ping({ id: peer.id });
      const levels: [number, string][] = [
        [-1, 'flat/web'],
        [0, 'keep/team/apps/web'],
        [1, 'one/apps/web'],
        [2, 'two/web'],
      ];
      for (const [count, expected] of levels) {
        const ns = expected.split('/')[0]!;
        const policy = await app.replication.policies.create({
          name: `to-peer-${ns}`,
          dest_registry: { id: peer.id },
          dest_namespace: ns,
          dest_namespace_replace_count: count,
          filters: [{ type: 'name', value: 'team/**' }],
          trigger: { type: 'manual' },
        });
        const done = await settledExecution(app, await app.replication.executions.start(policy.id, 'MANUAL'));
        assert.equal(done.status, 'Succeed', `${done.status_text}\n${await executionLog(app, done.id)}`);
        assert.equal(done.total, 2);
        const web = await target.client.fetch(`/v2/${expected}/manifests/v1`, { method: 'HEAD' });
        assert.equal(web.headers.get('docker-content-digest'), image.digest, expected);
        const multi = expected.replace(/web$/, 'multi');
        const idx = await target.client.fetch(`/v2/${multi}/manifests/v2`, { method: 'HEAD' });
        assert.equal(idx.headers.get('docker-content-digest'), index.digest, multi);
        for (const c of children) {
          const child = await target.client.fetch(`/v2/${multi}/manifests/${c.digest}`, { method: 'HEAD' });
          assert.equal(child.status, 200);
        }
      }
      const projects = (await (await target.client.fetch('/api/v2.0/projects?page_size=100')).json()) as {
        name: string;
      }[];
      for (const ns of ['flat', 'keep', 'one', 'two'])
        assert.ok(
          projects.some((p) => p.name === ns),
          ns,
        );
    });
  });
}
