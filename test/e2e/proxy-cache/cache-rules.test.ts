// Proxy-cache rules beyond the pull itself, against Debian's docker-registry (basic auth), on every
// backend: a tag checked upstream recently is served without asking again (proxy_cache_check_seconds)
// and a digest never asks; a new proxy project gets Harbor's default retention policy; a manifest whose
// blobs no client pulled is made whole by `proxy.complete` and listed; and deletes (API, retention, GC)
// leave no proxy bookkeeping behind; Harbor's max_upstream_conn refuses downloads beyond it (429); Harbor's
// repository filter (proxy_cache_filter_pattern/_kind), referrers API (proxy_referrer_api) and bandwidth
// limit (proxy_speed_kb, in Kbit/s) behave as Harbor's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends, startBerth } from '../../helpers/berth.js';
import { dockerRegistryBinary } from '../../helpers/docker-registry.js';
import { runGc } from '../../helpers/gc.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import {
  addUpstreamEndpoint,
  createProxyProject,
  manifestAccept,
  pullThrough,
  startUpstream,
  type Upstream,
} from '../../helpers/proxy-cache.js';
import {
  clientFor,
  closeNow,
  digestOf,
  makeImage,
  makeIndex,
  useBerth,
} from '../../helpers/registry-client.js';
import { seedImage } from '../../helpers/replication.js';
import { retentionPolicy, runRetention } from '../../helpers/retention.js';
import { hasTool, needTools } from '../../helpers/tools.js';
import { waitFor } from '../../helpers/wait.js';

interface ArtifactView {
  digest: string;
  size: number;
  tags: { name: string }[] | null;
}

for (const backend of backends()) {
  describe(`proxy cache rules (${backend})`, () => {
    const fixture = useBerth(backend, {
      overrides: {
        // GC's grace period would keep the artifacts this test just made.
        registry: { proxyCompleteAfterSeconds: 1, gcGraceMinutes: 0 },
        jobs: { pollIntervalMs: 100 },
      },
    });
    let up: Upstream | undefined;
    let api: HarborApi;
    let registryId: number;
    const app = makeImage({ layers: 2, layerSize: 100_000 });
    const lonely = makeImage({ layers: 3, layerSize: 80_000 });
    const other = makeImage({ layers: 1, layerSize: 50_000 });
    const amd = makeImage({ layers: 1, layerSize: 40_000 });
    const arm = makeImage({ layers: 1, layerSize: 40_000 });
    const multi = makeIndex([amd, arm]);
    const limited = makeImage({ layers: 2, layerSize: 60_000 });
    const slow = makeImage({ layers: 1, layerSize: 512 * 1024 });
    /** The repository's artifacts; none while the repository does not exist. */
    const artifacts = async (project: string, repo: string): Promise<ArtifactView[]> => {
      const path = `/projects/${project}/repositories/${encodeURIComponent(encodeURIComponent(repo))}`;
      const res = await api.call<ArtifactView[]>('GET', `${path}/artifacts?with_tag=true`);
      if (res.status === 404) return [];
      assert.equal(res.status, 200, res.text);
      return res.body;
    };

    before(async () => {
      if (!hasTool(dockerRegistryBinary)) return;
      up = await startUpstream();
      await seedImage(up.seed, 'team/app', app, 'v1');
      await seedImage(up.seed, 'team/lonely', lonely, 'v1');
      await seedImage(up.seed, 'team/other', other, 'v1');
      await seedImage(up.seed, 'team/limited', limited, 'v1');
      await seedImage(up.seed, 'team/slow', slow, 'v1');
      for (const child of [amd, arm]) await seedImage(up.seed, 'team/multi', child, child.digest);
      await up.seed.putManifest('team/multi', 'latest', multi.mediaType, multi.bytes);
      api = new HarborApi(fixture.berth.url);
      registryId = await addUpstreamEndpoint(api, up);
      await createProxyProject(api, 'rules', registryId);
      await createProxyProject(api, 'clean', registryId, { proxy_cache_check_seconds: '0' });
      await createProxyProject(api, 'narrow', registryId, { max_upstream_conn: '1' });
      await createProxyProject(api, 'picky', registryId, {
        proxy_cache_filter_pattern: 'team/a*',
        proxy_cache_filter_kind: 'doublestar',
      });
      await createProxyProject(api, 'refs', registryId, { proxy_referrer_api: 'true' });
      await createProxyProject(api, 'throttled', registryId, { proxy_speed_kb: '2000' });
    });
    after(async () => up?.close());

    it('serves a tag checked within proxy_cache_check_seconds without asking the upstream; a digest never asks', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { client, berth } = fixture;
      const { gate } = up!;
      assert.equal(await pullThrough(client, 'rules/team/app', 'v1'), app.digest);
      let before = gate.seen.length;
      assert.equal(await pullThrough(client, 'rules/team/app', 'v1'), app.digest);
      assert.equal(await pullThrough(client, 'rules/team/app', app.digest), app.digest);
      assert.deepEqual(gate.seen.slice(before), [], 'the default 60 s window: no upstream request');
      // Once the window has passed, the next pull asks again (a HEAD, nothing else).
      await berth.app.store.proxyCache.recordTagCheck(
        'rules/team/app',
        'v1',
        app.digest,
        new Date(Date.now() - 61_000).toISOString(),
      );
      before = gate.seen.length;
      assert.equal(await pullThrough(client, 'rules/team/app', 'v1'), app.digest);
      assert.deepEqual(
        gate.seen.slice(before).map((s) => s.split(' ')[0]),
        ['HEAD'],
      );
    });

    it("gives a new proxy project Harbor's default retention policy: keep what was pulled within 7 days, daily", async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const project = await api.expect<{ metadata: Record<string, string> }>(200, 'GET', '/projects/rules');
      const id = Number(project.body.metadata.retention_id);
      assert.ok(id > 0, `retention_id: ${JSON.stringify(project.body.metadata)}`);
      const policy = await api.expect<{
        rules: { template: string; params: Record<string, number>; tag_selectors: { pattern: string }[] }[];
        trigger: { kind: string; settings: { cron: string } };
      }>(200, 'GET', `/retentions/${id}`);
      assert.deepEqual(
        policy.body.rules.map((r) => [r.template, r.params, r.tag_selectors.map((s) => s.pattern)]),
        [['nDaysSinceLastPull', { nDaysSinceLastPull: 7 }, ['**']]],
      );
      assert.deepEqual(policy.body.trigger, {
        kind: 'Schedule',
        settings: { cron: '0 0 0 * * *' },
        references: {},
      });
      const normal = await api.expect(201, 'POST', '/projects', { project_name: 'plain' });
      assert.equal(normal.status, 201);
      const plain = await api.expect<{ metadata: Record<string, string> }>(200, 'GET', '/projects/plain');
      assert.equal(plain.body.metadata.retention_id, undefined, 'a normal project gets none');
    });

    it('makes a manifest whole when no client pulls its blobs, and lists it', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { client } = fixture;
      const { gate } = up!;
      const res = await client.fetch('/v2/rules/team/lonely/manifests/v1', {
        headers: { accept: manifestAccept },
      });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      const listed = await waitFor(
        'proxy.complete to record the artifact',
        async () => (await artifacts('rules', 'team/lonely')).find((a) => a.digest === lonely.digest),
        60_000,
      );
      assert.deepEqual(
        listed.tags?.map((x) => x.name),
        ['v1'],
      );
      const bytes = lonely.blobs.reduce((n, b) => n + b.bytes.length, 0) + lonely.bytes.length;
      assert.equal(listed.size, bytes);
      for (const blob of lonely.blobs)
        assert.equal(gate.count(new RegExp(`^GET /v2/team/lonely/blobs/${blob.digest}$`)), 1);
      // The blobs are in the cache now: a full pull fetches none of them again.
      assert.equal(await pullThrough(client, 'rules/team/lonely', lonely.digest), lonely.digest);
      for (const blob of lonely.blobs)
        assert.equal(gate.count(new RegExp(`^GET /v2/team/lonely/blobs/${blob.digest}$`)), 1);
    });

    it("refuses a download beyond max_upstream_conn with Harbor's 429; clients of a download under way take no slot", async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { client } = fixture;
      const { gate } = up!;
      const repo = 'narrow/team/limited';
      const [first, second] = limited.blobs.slice(1).map((b) => b.digest);
      let release!: () => void;
      gate.holdBlobs = new Promise((resolve) => (release = resolve));
      try {
        const slow = client.fetch(`/v2/${repo}/blobs/${first}`);
        await waitFor('the first download to reach the upstream', () =>
          gate.seen.includes(`GET /v2/team/limited/blobs/${first}`),
        );
        const joined = client.fetch(`/v2/${repo}/blobs/${first}`);
        const refused = await client.fetch(`/v2/${repo}/blobs/${second}`);
        assert.equal(refused.status, 429);
        assert.deepEqual(await refused.json(), {
          errors: [{ code: 'TOOMANYREQUESTS', message: 'too many requests to upstream registry' }],
        });
        assert.equal(gate.count(new RegExp(`^GET /v2/team/limited/blobs/${second}$`)), 0);
        const manifest = await client.fetch(`/v2/${repo}/manifests/v1`, {
          headers: { accept: manifestAccept },
        });
        assert.equal(manifest.status, 429, 'a manifest download needs a slot too');
        await manifest.arrayBuffer();
        release();
        for (const pending of [slow, joined]) {
          const blob = await pending;
          assert.equal(blob.status, 200);
          assert.equal(digestOf(Buffer.from(await blob.arrayBuffer())), first);
        }
      } finally {
        release();
        gate.holdBlobs = null;
      }
      assert.equal(
        gate.count(new RegExp(`^GET /v2/team/limited/blobs/${first}$`)),
        1,
        'one download, shared',
      );
      // The slot is free again once the download is done (the manifest's download gives its own back).
      assert.equal(await pullThrough(client, repo, 'v1'), limited.digest);
    });

    it('leaves no proxy bookkeeping behind when tags, artifacts and repositories are deleted (API, retention, GC)', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { client, berth } = fixture;
      const checks = berth.app.store.proxyCache;
      const repo = 'clean/team/other';
      const api404 = `/projects/clean/repositories/team%252Fother`;
      const cached = async () => (await checks.tagCheck(repo, 'v1'))?.digest;

      await pullThrough(client, repo, 'v1');
      assert.equal(await cached(), other.digest);
      await api.expect(200, 'DELETE', `${api404}/artifacts/${other.digest}/tags/v1`);
      assert.equal(await waitFor('the tag check to go', async () => !(await cached())), true);

      await pullThrough(client, repo, 'v1');
      await api.expect(200, 'DELETE', `${api404}/artifacts/${other.digest}`);
      assert.equal(await cached(), undefined, 'deleting the artifact forgets its tag checks');

      await pullThrough(client, repo, 'v1');
      await api.expect(200, 'DELETE', api404);
      assert.equal(await cached(), undefined, 'deleting the repository forgets its tag checks');

      // Retention: a policy that keeps nothing of team/other deletes the artifact, and its tag check.
      await pullThrough(client, repo, 'v1');
      const pid = (
        await api.expect<{ project_id: number; metadata: Record<string, string> }>(
          200,
          'GET',
          '/projects/clean',
        )
      ).body;
      const policyId = Number(pid.metadata.retention_id);
      await api.expect(
        200,
        'PUT',
        `/retentions/${policyId}`,
        retentionPolicy(pid.project_id, [{ template: 'always', tags: 'none-such' }]),
      );
      const run = await runRetention(api, policyId, false);
      assert.equal(run.execution.status, 'Success', JSON.stringify(run.execution));
      assert.deepEqual(await artifacts('clean', 'team/other'), []);
      assert.equal(await cached(), undefined, 'retention forgets the tag checks of what it deletes');

      // GC: an index whose tag moved upstream is untagged here; deleting it forgets the children it waited for.
      assert.equal(await pullThrough(client, 'clean/team/multi', 'latest'), multi.digest);
      assert.equal(await pullThrough(client, 'clean/team/multi', amd.digest), amd.digest);
      await up!.seed.putManifest('team/multi', 'latest', amd.mediaType, amd.bytes);
      assert.equal(await pullThrough(client, 'clean/team/multi', 'latest'), amd.digest);
      await runGc(api, { delete_untagged: true });
      const left = await artifacts('clean', 'team/multi');
      assert.ok(!left.some((a) => a.digest === multi.digest), 'GC deleted the untagged index');
      assert.deepEqual(await checks.takeParents('clean/team/multi', arm.digest), []);
    });
    it("lists a proxy repository's tags as Harbor: the cached ones and the upstream's, merged and paged; the cached ones alone when the upstream fails", async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { client } = fixture;
      const { gate } = up!;
      const list = async (query = '') => {
        const res = await client.fetch(`/v2/rules/team/app/tags/list${query}`);
        return { status: res.status, link: res.headers.get('link'), body: (await res.json()) as unknown };
      };
      assert.equal(await pullThrough(client, 'rules/team/app', 'v1'), app.digest);
      await up!.seed.putManifest('team/app', 'v0', app.mediaType, app.bytes);
      await up!.seed.putManifest('team/app', 'v2', app.mediaType, app.bytes);
      const before = gate.count(/^GET \/v2\/team\/app\/tags\/list/);
      assert.deepEqual(await list(), {
        status: 200,
        link: null,
        body: { name: 'rules/team/app', tags: ['v0', 'v1', 'v2'] },
      });
      assert.equal(gate.count(/^GET \/v2\/team\/app\/tags\/list/), before + 1, 'the upstream is asked');
      assert.deepEqual(await list('?n=2'), {
        status: 200,
        link: '</v2/rules/team/app/tags/list?n=2&last=v1>; rel="next"',
        body: { name: 'rules/team/app', tags: ['v0', 'v1'] },
      });
      assert.deepEqual((await list('?n=2&last=v1')).body, { name: 'rules/team/app', tags: ['v2'] });
      assert.deepEqual((await list('?n=0')).body, { name: 'rules/team/app', tags: [] });
      gate.failWith = 503;
      try {
        assert.deepEqual(await list(), {
          status: 200,
          link: null,
          body: { name: 'rules/team/app', tags: ['v1'] },
        });
      } finally {
        gate.failWith = null;
      }
    });

    it('serves only the repositories proxy_cache_filter_pattern matches, as Harbor: others are 404, cached or not, and the upstream is not asked', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { client } = fixture;
      const { gate } = up!;
      const status = async (path: string) => {
        const res = await client.fetch(path, { headers: { accept: manifestAccept } });
        const body = await res.text();
        return { status: res.status, body };
      };
      assert.equal(await pullThrough(client, 'picky/team/app', 'v1'), app.digest);
      const before = gate.seen.length;
      const refused = await status('/v2/picky/team/other/manifests/v1');
      assert.equal(refused.status, 404);
      assert.deepEqual(JSON.parse(refused.body), {
        errors: [
          // Harbor's message; the code is the OCI one Berth's /v2 renders a not-found as (Harbor: NOT_FOUND).
          {
            code: 'NAME_UNKNOWN',
            message: 'repository "team/other" does not match project repository filter',
          },
        ],
      });
      assert.equal((await status(`/v2/picky/team/other/blobs/${other.blobs[0]!.digest}`)).status, 404);
      const tags = await status('/v2/picky/team/other/tags/list');
      assert.equal(tags.status, 404, 'the tag list too, as Harbor');
      assert.equal(tags.body, refused.body);
      assert.deepEqual(gate.seen.slice(before), [], 'nothing outside the filter reaches the upstream');
      const inside = await status('/v2/picky/team/app/tags/list');
      // (The tag-list case above added v0 and v2 at the upstream.)
      assert.deepEqual(JSON.parse(inside.body), { name: 'picky/team/app', tags: ['v0', 'v1', 'v2'] });

      // A regex (whole-name match), set through the project API: team/app, cached, is now outside it.
      await api.expect(200, 'PUT', '/projects/picky', {
        metadata: { proxy_cache_filter_pattern: 'team/(other|none)', proxy_cache_filter_kind: 'regex' },
      });
      await waitFor(
        'the new filter to apply',
        async () => (await status('/v2/picky/team/app/manifests/v1')).status === 404,
      );
      assert.equal((await status(`/v2/picky/team/app/blobs/${app.blobs[0]!.digest}`)).status, 404);
      assert.equal(await pullThrough(client, 'picky/team/other', 'v1'), other.digest);

      // Harbor's checks of the settings.
      const proxyBody = (metadata: Record<string, string>) => ({
        project_name: 'badfilter',
        registry_id: registryId,
        metadata,
      });
      assert.equal(
        await api.expectError(
          400,
          'BAD_REQUEST',
          'POST',
          '/projects',
          proxyBody({ proxy_cache_filter_pattern: 'team/*' }),
        ),
        'metadata.proxy_cache_filter_kind should be "doublestar" or "regex", but got: ""',
      );
      assert.match(
        await api.expectError(
          400,
          'BAD_REQUEST',
          'POST',
          '/projects',
          proxyBody({ proxy_cache_filter_pattern: 'team/(', proxy_cache_filter_kind: 'regex' }),
        ),
        /^metadata\.proxy_cache_filter_pattern is invalid for kind "regex": /,
      );
      assert.equal(
        await api.expectError(
          400,
          'BAD_REQUEST',
          'PUT',
          '/projects/picky/metadatas/proxy_cache_filter_kind',
          {
            proxy_cache_filter_kind: 'glob',
          },
        ),
        'invalid proxy_cache_filter_kind: "glob", must be "doublestar" or "regex"',
      );
      assert.equal(
        await api.expectError(
          400,
          'BAD_REQUEST',
          'DELETE',
          '/projects/picky/metadatas/proxy_cache_filter_kind',
        ),
        'cannot delete proxy_cache_filter_kind when proxy_cache_filter_pattern is not empty, please clear the pattern first',
      );
      await api.expect(201, 'POST', '/projects', { project_name: 'nofilter' });
      assert.equal(
        await api.expectError(400, 'BAD_REQUEST', 'POST', '/projects/nofilter/metadatas', {
          proxy_cache_filter_pattern: 'team/*',
        }),
        'can not update the normal project with proxy cache filter metadata',
      );
      // A normal project's create and update drop the proxy settings, as Harbor's do.
      await api.expect(200, 'PUT', '/projects/nofilter', {
        metadata: { proxy_cache_filter_pattern: 'x', proxy_cache_filter_kind: 'regex', proxy_speed_kb: '10' },
      });
      const kept = await api.expect<{ metadata: Record<string, string> }>(200, 'GET', '/projects/nofilter');
      assert.equal(kept.body.metadata.proxy_cache_filter_pattern, undefined);
      assert.equal(kept.body.metadata.proxy_speed_kb, undefined);
    });

    it('asks the upstream for referrers when proxy_referrer_api is on (paging links made local, the last answer kept for when it fails); the cache answers when it is off', async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { client } = fixture;
      const { gate } = up!;
      const index = 'application/vnd.oci.image.index.v1+json';
      const signature = {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${'a'.repeat(64)}`,
        size: 321,
        artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      };
      gate.answer = (method, url) => {
        if (method !== 'GET' || !url.startsWith('/v2/team/app/referrers/')) return undefined;
        if (!url.startsWith(`/v2/team/app/referrers/${app.digest}`))
          return {
            status: 404,
            body: '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}',
          };
        return {
          status: 200,
          headers: {
            'content-type': index,
            link: `<http://elsewhere.example/v2/team/app/referrers/${app.digest}?n=1&last=x>; rel="next"`,
            'x-total-count': '2',
          },
          body: JSON.stringify({ schemaVersion: 2, mediaType: index, manifests: [signature] }),
        };
      };
      try {
        const path = `/v2/refs/team/app/referrers/${app.digest}?n=1`;
        const page = async () => {
          const res = await client.fetch(path);
          return { res, body: (await res.json()) as { manifests: unknown[] } };
        };
        const first = await page();
        assert.equal(first.res.status, 200);
        assert.equal(first.res.headers.get('content-type'), index);
        assert.equal(
          first.res.headers.get('link'),
          `</v2/refs/team/app/referrers/${app.digest}?n=1&last=x>; rel="next"`,
        );
        assert.equal(first.res.headers.get('x-total-count'), '2');
        assert.deepEqual(first.body.manifests, [signature]);
        assert.equal(gate.count(/^GET \/v2\/team\/app\/referrers\//), 1);

        const unknown = await client.fetch(`/v2/refs/team/app/referrers/sha256:${'b'.repeat(64)}`);
        assert.equal(unknown.status, 404, "the upstream's 404 is the answer");
        await unknown.arrayBuffer();

        gate.failWith = 503;
        // Another process (here a second Berth on the same database and storage, as a node or a worker of
        // --workers) serves the page this one got: it is kept in the database, not in a process.
        const other = await startBerth({
          backend,
          dataDir: fixture.berth.dataDir,
          databaseUrl: fixture.berth.databaseUrl,
        });
        try {
          const kept = await page();
          assert.equal(kept.res.status, 200);
          assert.deepEqual(kept.body.manifests, [signature], 'the last answer, while the upstream fails');
          const elsewhere = await clientFor(other).fetch(path);
          assert.equal(elsewhere.status, 200);
          assert.equal(elsewhere.headers.get('x-total-count'), '2');
          assert.deepEqual(
            ((await elsewhere.json()) as { manifests: unknown[] }).manifests,
            [signature],
            'the page another process got',
          );
        } finally {
          gate.failWith = null;
          await closeNow(other);
        }

        const asked = gate.seen.length;
        const local = await client.fetch(`/v2/rules/team/app/referrers/${app.digest}`);
        assert.equal(local.status, 200);
        assert.deepEqual(((await local.json()) as { manifests: unknown[] }).manifests, []);
        assert.deepEqual(gate.seen.slice(asked), [], 'proxy_referrer_api off: the cache answers');
      } finally {
        gate.answer = null;
      }
    });

    it("limits upstream downloads to proxy_speed_kb in Kbit/s, as Harbor's limiter does (kb × 1024 / 8 bytes a second)", async (t) => {
      if (!needTools(t, dockerRegistryBinary)) return;
      const { client } = fixture;
      const layer = slow.blobs.reduce((a, b) => (b.bytes.length > a.bytes.length ? b : a));
      // 512 KiB at 2000 Kbit/s (256,000 bytes a second) takes about 2 s; read as KB/s, as Berth did, it
      // took a quarter of a second. Only the lower bound is asserted: a loaded machine is only slower.
      const started = performance.now();
      const res = await client.fetch(`/v2/throttled/team/slow/blobs/${layer.digest}`);
      const got = Buffer.from(await res.arrayBuffer());
      const seconds = (performance.now() - started) / 1000;
      assert.equal(res.status, 200);
      assert.equal(digestOf(got), layer.digest);
      assert.ok(seconds >= 1.5, `512 KiB at 2000 Kbit/s took ${seconds.toFixed(2)} s; expected about 2 s`);
    });
  });
}
