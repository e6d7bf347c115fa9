// Proxy-cache projects against Debian's docker-registry as the upstream (basic auth), on every backend:
// pull through (digests identical), listing as soon as the pull completes, a moved tag, serve-stale on
// 429 and on an upstream that is gone, 16 concurrent cold pulls costing one upstream fetch per blob, a
// multi-arch index pulled for one platform, and the project rules (admins only, unhealthy upstream,
// pushes refused, registry_id shown).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../../helpers/berth.js';
import { dockerRegistryBinary } from '../../helpers/docker-registry.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import {
  addUpstreamEndpoint,
  createProxyProject,
  manifestAccept as accept,
  pullThrough as pull,
  startUpstream,
  type Upstream,
} from '../../helpers/proxy-cache.js';
import { makeImage, makeIndex, useBerth } from '../../helpers/registry-client.js';
import { seedImage } from '../../helpers/replication.js';
import { hasTool, needTools } from '../../helpers/tools.js';
import type { UpstreamGate } from '../../helpers/upstream-gate.js';
import { waitFor } from '../../helpers/wait.js';

for (const backend of backends()) {
  describe(`proxy cache through docker-registry (${backend})`, () => {
    const fixture = useBerth(backend);
    let up: Upstream | undefined;
    let gate: UpstreamGate;
    let seed: Upstream['seed'];
    let api: HarborApi;
    let registryId: number;
    const project = 'hub';
    const v1 = makeImage({ layers: 2, layerSize: 300_000 });
    const v2 = makeImage({ layers: 2, layerSize: 200_000 });
    const amd = makeImage({ layers: 1, layerSize: 50_000 });
    const arm = makeImage({ layers: 1, layerSize: 50_000 });
    const multi = makeIndex([amd, arm]);

    before(async () => {
      if (!hasTool(dockerRegistryBinary)) return;
      up = await startUpstream();
      ({ gate, seed } = up);
      await seedImage(seed, 'team/app', v1, 'v1');
      await seedImage(seed, 'team/app', v1, 'moving');
      for (const child of [amd, arm]) await seedImage(seed, 'team/multi', child, child.digest);
      await seed.putManifest('team/multi', 'latest', multi.mediaType, multi.bytes);
      api = new HarborApi(fixture.berth.url);
      registryId = await addUpstreamEndpoint(api, up);
      // Harbor's rule: every tag pull asks the upstream (the check window is cache-rules.test.ts's).
      await createProxyProject(api, project, registryId, { proxy_cache_check_seconds: '0' });
    });
    after(async () => {
      await up?.close();
    });

    it('shows registry_id, refuses non-admins and unhealthy upstreams, and refuses pushes', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const list = await api.expect<{ name: string; registry_id?: number }[]>(200, 'GET', '/projects');
      assert.equal(list.body.find((p) => p.name === project)?.registry_id, registryId);
      assert.equal(list.body.find((p) => p.name === 'library')?.registry_id, undefined);
      await api.expect(201, 'POST', '/users', {
        username: 'dev1',
        email: 'dev1@example.com',
        realname: 'Dev',
        password: 'Dev1-Passw0rd',
      });
      const dev = api.as('dev1', 'Dev1-Passw0rd');
      const refused = await dev.call('POST', '/projects', { project_name: 'mine', registry_id: registryId });
      assert.equal(refused.status, 403, refused.text);
      assert.match(refused.text, /Only system admin can create proxy cache project/);
      const dead = await api.expect(201, 'POST', '/registries', {
        name: 'dead',
        type: 'docker-registry',
        url: 'http://127.0.0.1:9',
      });
      const deadId = Number(dead.headers.get('location')!.split('/').pop());
      const unhealthy = await api.call('POST', '/projects', {
        project_name: 'deadproxy',
        registry_id: deadId,
      });
      assert.equal(unhealthy.status, 400);
      assert.deepEqual(unhealthy.body, {
        errors: [{ code: 'BAD_REQUEST', message: 'the registry is unhealthy' }],
      });
      const zero = await api.call('POST', '/projects', { project_name: 'zeroproxy', registry_id: -1 });
      assert.equal(zero.status, 400, zero.text);
      const push = await fixture.client.fetch(`/v2/${project}/team/app/blobs/uploads/`, { method: 'POST' });
      assert.equal(push.status, 403);
      assert.match(await push.text(), /can not push artifact to a proxy project: hub/);
      const inUse = await api.call('DELETE', `/registries/${registryId}`);
      assert.equal(inUse.status, 412, inUse.text);
    });

    it("pulls through: the digests are the upstream's, and the artifact is listed when the pull completes", async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { client } = fixture;
      const digest = await pull(client, `${project}/team/app`, 'v1');
      assert.equal(digest, v1.digest);
      const arts = await api.expect<{ digest: string; tags: { name: string }[] | null; pull_time: string }[]>(
        200,
        'GET',
        `/projects/${project}/repositories/team%252Fapp/artifacts?with_tag=true`,
      );
      const art = arts.body.find((a) => a.digest === v1.digest);
      assert.ok(art, `cached artifact listed at once: ${arts.text}`);
      assert.deepEqual(
        art.tags?.map((t) => t.name),
        ['v1'],
      );
      // The first fetch is in the audit log, as a creation by whoever pulled.
      const audited = await waitFor('the audit entry of the first fetch', async () => {
        const logs = await api.expect<{ resource: string; operation: string; username: string }[]>(
          200,
          'GET',
          `/audit-logs?q=${encodeURIComponent('operation=create')}`,
        );
        return logs.body.find((l) => l.resource === `${project}/team/app:v1`);
      });
      assert.equal(audited.username, 'admin');
      // A second pull reads the cache: only the tag check goes upstream.
      const before = gate.seen.length;
      assert.equal(await pull(client, `${project}/team/app`, 'v1'), v1.digest);
      assert.deepEqual(
        gate.seen.slice(before).map((s) => s.split(' ')[0]),
        ['HEAD'],
        gate.seen.slice(before).join('\n'),
      );
    });

    it('serves the digest the upstream names now when a tag moves', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { client } = fixture;
      assert.equal(await pull(client, `${project}/team/app`, 'moving'), v1.digest);
      await seedImage(seed, 'team/app', v2, 'moving');
      assert.equal(await pull(client, `${project}/team/app`, 'moving'), v2.digest);
      const head = await client.fetch(`/v2/${project}/team/app/manifests/moving`, {
        method: 'HEAD',
        headers: { accept },
      });
      assert.equal(head.headers.get('docker-content-digest'), v2.digest);
    });

    it('serves cached tags while the upstream answers 429 or 503, and names its answer for others', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { client } = fixture;
      await pull(client, `${project}/team/app`, 'v1');
      for (const status of [429, 503]) {
        gate.failWith = status;
        try {
          assert.equal(await pull(client, `${project}/team/app`, 'v1'), v1.digest);
          const never = await client.fetch(`/v2/${project}/team/app/manifests/never`, {
            headers: { accept },
          });
          assert.equal(never.status, status === 429 ? 429 : 503);
          const text = await never.text();
          assert.match(text, /upstream registry upstream/);
          assert.match(text, new RegExp(String(status)));
          assert.match(text, /not in the proxy cache/);
        } finally {
          gate.failWith = null;
        }
      }
      const metrics = await (await fetch(`${fixture.berth.url}/metrics`)).text();
      assert.match(metrics, /berth_proxy_stale_served_total\{project="hub",reason="rate-limited"\} [1-9]/);
      assert.match(metrics, /berth_proxy_stale_served_total\{project="hub",reason="remote"\} [1-9]/);
    });

    it('refuses a stale tag older than proxy_cache_stale_minutes allows', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { client, berth } = fixture;
      await api.expect(201, 'POST', '/projects', {
        project_name: 'strict',
        registry_id: registryId,
        metadata: { proxy_cache_stale_minutes: '0', proxy_cache_check_seconds: '0' },
      });
      await pull(client, 'strict/team/app', 'v1');
      await berth.app.store.proxyCache.recordTagCheck(
        'strict/team/app',
        'v1',
        v1.digest,
        '2000-01-01T00:00:00.000Z',
      );
      gate.failWith = 503;
      try {
        const res = await client.fetch('/v2/strict/team/app/manifests/v1', { headers: { accept } });
        assert.equal(res.status, 503);
        assert.match(await res.text(), /last confirmed .* more than the 0 min project strict allows/);
      } finally {
        gate.failWith = null;
      }
    });

    it('16 clients pulling one uncached image at once cost one upstream fetch per blob', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const image = makeImage({ layers: 3, layerSize: 2_000_000 });
      await seedImage(seed, 'team/burst', image, 'v1');
      const digests = await Promise.all(
        Array.from({ length: 16 }, () => pull(fixture.client, `${project}/team/burst`, 'v1')),
      );
      assert.deepEqual(new Set(digests), new Set([image.digest]));
      for (const blob of image.blobs) {
        const gets = gate.count(new RegExp(`^GET /v2/team/burst/blobs/${blob.digest}$`));
        assert.equal(gets, 1, `upstream GETs of ${blob.digest}`);
      }
    });

    it('never hands a client the whole of a blob whose bytes fail their digest, and caches none of it', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const image = makeImage({ layers: 1, layerSize: 3_000_000 });
      await seedImage(seed, 'team/forged', image, 'v1');
      const layer = image.blobs.find((b) => b.bytes.length === 3_000_000)!;
      const path = `/v2/team/forged/blobs/${layer.digest}`;
      // The upstream answers the layer's GET with other bytes of the same length.
      gate.answer = (method, url) =>
        method === 'GET' && url === path
          ? {
              status: 200,
              headers: { 'content-length': String(layer.bytes.length) },
              body: 'x'.repeat(layer.bytes.length),
            }
          : undefined;
      try {
        const res = await fixture.client.fetch(`/v2/${project}/team/forged/blobs/${layer.digest}`);
        const got = await res.arrayBuffer().then(
          (b) => b.byteLength,
          () => -1,
        );
        assert.notEqual(got, layer.bytes.length, 'the forged blob was not delivered whole');
      } finally {
        gate.answer = null;
      }
      // Nothing of it was cached: the next pull fetches it again, and gets the upstream's real bytes.
      assert.equal(await pull(fixture.client, `${project}/team/forged`, 'v1'), image.digest);
      assert.equal(gate.count(new RegExp(`^GET ${path}$`)), 2);
    });

    it('pulls one platform of a multi-arch index: the index is listed at once, the child as it lands', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { client } = fixture;
      const res = await client.fetch(`/v2/${project}/team/multi/manifests/latest`, { headers: { accept } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), multi.digest);
      assert.equal(await pull(client, `${project}/team/multi`, amd.digest), amd.digest);
      const arts = await api.expect<{ digest: string; references: { child_digest: string }[] | null }[]>(
        200,
        'GET',
        `/projects/${project}/repositories/team%252Fmulti/artifacts`,
      );
      const index = arts.body.find((a) => a.digest === multi.digest);
      assert.ok(index, arts.text);
      assert.deepEqual(
        index.references?.map((r) => r.child_digest),
        [amd.digest],
      );
      assert.ok(!arts.body.some((a) => a.digest === arm.digest), 'the platform not pulled is not cached');
    });

    it('keeps serving cached content when the upstream is gone; uncached gives a clear error', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { client } = fixture;
      await pull(client, `${project}/team/app`, 'v1');
      await gate.close();
      assert.equal(await pull(client, `${project}/team/app`, 'v1'), v1.digest);
      assert.equal(await pull(client, `${project}/team/app`, v1.digest), v1.digest);
      const res = await client.fetch(`/v2/${project}/team/other/manifests/v1`, { headers: { accept } });
      assert.equal(res.status, 503);
      assert.match(
        await res.text(),
        /could not fetch team\/other:v1 from the upstream registry upstream .*not in the proxy cache/,
      );
    });
  });
}
