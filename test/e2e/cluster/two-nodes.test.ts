// Two `berth serve` processes on one PostgreSQL database and one S3 bucket (Ceph RGW) behave as one
// registry: whatever one node accepts, the other serves at once, and the job scheduler fires once.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { sql } from 'kysely';
import { basicAuth, testAdmin } from '../../helpers/berth.js';
import type { BerthProcess } from '../../helpers/berth-process.js';
import { clusterS3, startCluster, type Cluster } from '../../helpers/cluster.js';
import type { RunningS3Server } from '../../helpers/s3-server.js';
import { containerTools, type ContainerTools } from '../../helpers/containers.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { buildWithUmoci, OciLayout, sha256, tempDir } from '../../helpers/images.js';
import { makeImage, manifestOf, randomBlob, RegistryClient } from '../../helpers/registry-client.js';
import { needTools, requireAll } from '../../helpers/tools.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * Milliseconds from `start` to the sending of the first request that `probe` finds changed (polled
 * back to back, for at most 5 s): how long the other node went on serving the old state.
 */
async function msUntil(start: number, what: string, probe: () => Promise<boolean>): Promise<number> {
  return waitFor(
    what,
    async () => {
      const sent = Date.now();
      return (await probe()) && sent - start;
    },
    5000,
    0,
  );
}

describe(
  'two Berth nodes on PostgreSQL and S3 (a shared folder without the Ceph tools)',
  { skip: !process.env.BERTH_TEST_PG_URL && !requireAll },
  () => {
    let cluster: Cluster;
    let s3: RunningS3Server | undefined;
    let a: BerthProcess;
    let b: BerthProcess;
    let apiA: HarborApi;
    let apiB: HarborApi;
    let tools: ContainerTools;
    let work: string;
    const host = (n: BerthProcess) => new URL(n.url).host;

    before(async () => {
      // Both start at once on an empty database: they take turns on the migrations.
      s3 = await clusterS3();
      // B serves HTTP only (jobs.workers 0): its scheduler still takes part, A runs every job.
      cluster = await startCluster({
        nodes: 2,
        s3,
        env: { BERTH_JOBS_POLL_INTERVAL_MS: '100' },
        nodeEnv: [{}, { BERTH_JOBS_WORKERS: '0' }],
      });
      [a, b] = cluster.nodes as [BerthProcess, BerthProcess];
      apiA = new HarborApi(a.url);
      apiB = new HarborApi(b.url);
      await apiA.expect(201, 'POST', '/projects', { project_name: 'cluster', metadata: { public: 'false' } });
      tools = containerTools();
      for (const n of [a, b]) tools.login(host(n), testAdmin);
      work = tempDir('cluster');
    });
    after(async () => {
      await cluster?.close();
      await s3?.stop();
      tools?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('started at once on an empty database, applied every migration exactly once', async () => {
      const rows = await sql<{ name: string; n: number }>`
      select name, count(*) as n from berth_migration group by name`.execute(cluster.db);
      assert.ok(rows.rows.length > 10);
      assert.ok(rows.rows.every((r) => Number(r.n) === 1));
      for (const n of [a, b]) assert.doesNotMatch(n.output(), /migration .* failed/);
    });

    it('an image pushed with skopeo through A pulls whole through B at once', async (t) => {
      if (!needTools(t, 'skopeo', 'umoci')) return;
      const layout = join(work, 'umoci');
      const built = await buildWithUmoci(layout, 'v1', { 'etc/motd': 'pushed through node A\n' }, [
        '/bin/true',
      ]);
      await tools.skopeo([
        'copy',
        '--dest-tls-verify=false',
        `oci:${layout}:v1`,
        `docker://${host(a)}/cluster/app:v1`,
      ]);
      const pulled = join(work, 'pulled');
      await tools.skopeo([
        'copy',
        '--src-tls-verify=false',
        `docker://${host(b)}/cluster/app:v1`,
        `oci:${pulled}:v1`,
      ]);
      const copy = new OciLayout(pulled).image('v1');
      assert.equal(copy.manifest.digest, built.manifest.digest);
      assert.deepEqual(
        copy.layers.map((l) => l.digest),
        built.layers.map((l) => l.digest),
      );
      const { stdout } = await tools.skopeo([
        'list-tags',
        '--tls-verify=false',
        `docker://${host(b)}/cluster/app`,
      ]);
      assert.deepEqual((JSON.parse(stdout) as { Tags: string[] }).Tags, ['v1']);
      if (s3) {
        const listed = await s3
          .client()
          .send(new ListObjectsV2Command({ Bucket: cluster.storage, Prefix: 'blobs/' }));
        assert.ok((listed.KeyCount ?? 0) >= built.layers.length + 2, 'the blobs are in the S3 bucket');
      }
    });

    it('an upload opened on A takes chunks on B and A alternately and completes on B', async () => {
      const onA = new RegistryClient(a.url);
      const onB = new RegistryClient(b.url);
      const blob = randomBlob(3 * 256 * 1024);
      const parts = [0, 1, 2].map((i) => blob.bytes.subarray(i * 256 * 1024, (i + 1) * 256 * 1024));
      let location = await onA.startUpload('cluster/raw');
      for (const [i, part] of parts.entries()) {
        const node = i % 2 === 0 ? onB : onA;
        const start = i * part.length;
        const res = await node.fetch(location, {
          method: 'PATCH',
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${start}-${start + part.length - 1}`,
          },
          body: new Uint8Array(part),
        });
        assert.equal(res.status, 202, await res.text());
        assert.equal(res.headers.get('range'), `0-${start + part.length - 1}`);
        location = res.headers.get('location')!;
      }
      const done = await onB.fetch(`${location}${location.includes('?') ? '&' : '?'}digest=${blob.digest}`, {
        method: 'PUT',
      });
      assert.equal(done.status, 201, await done.text());
      const got = await onA.fetch(`/v2/cluster/raw/blobs/${blob.digest}`);
      assert.equal(got.status, 200);
      assert.equal(sha256(Buffer.from(await got.arrayBuffer())), blob.digest);
    });

    it('a bearer token issued by A is honoured by B', async () => {
      const res = await fetch(`${a.url}/service/token?service=berth&scope=repository:cluster/app:pull`, {
        headers: { authorization: basicAuth(testAdmin) },
      });
      assert.equal(res.status, 200);
      const { token } = (await res.json()) as { token: string };
      const tags = await fetch(`${b.url}/v2/cluster/app/tags/list`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(tags.status, 200, await tags.clone().text());
      assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, ['v1']);
    });

    it('a UI session made on A (cookie and CSRF token) works on B; logging out on B ends it on A', async () => {
      const login = await fetch(`${a.url}/c/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ principal: testAdmin.username, password: testAdmin.password }),
      });
      assert.equal(login.status, 200);
      const cookies = login.headers
        .getSetCookie()
        .map((c) => c.split(';', 1)[0]!)
        .join('; ');
      const csrf = login.headers.get('x-harbor-csrf-token')!;
      const me = await fetch(`${b.url}/api/v2.0/users/current`, { headers: { cookie: cookies } });
      assert.equal(me.status, 200);
      assert.equal(((await me.json()) as { username: string }).username, 'admin');
      const created = await fetch(`${b.url}/api/v2.0/projects`, {
        method: 'POST',
        headers: { cookie: cookies, 'x-harbor-csrf-token': csrf, 'content-type': 'application/json' },
        body: JSON.stringify({ project_name: 'made-on-b' }),
      });
      assert.equal(created.status, 201, await created.text());
      assert.equal((await fetch(`${b.url}/c/log_out`, { headers: { cookie: cookies } })).status, 200);
      const gone = await fetch(`${a.url}/api/v2.0/users/current`, { headers: { cookie: cookies } });
      assert.equal(gone.status, 401);
    });

    it("an OIDC user's CLI secret set through A logs in on B", async () => {
      const now = new Date().toISOString();
      const id = await cluster.store.users.create({
        username: 'oidc-dev',
        email: null,
        realname: 'OIDC Dev',
        comment: '',
        password_hash: null,
        sysadmin: 0,
        auth_source: 'oidc',
        external_subject: 'sub-1',
        cli_secret: null,
        cli_secret_time: null,
        creation_time: now,
        update_time: now,
      });
      await apiA.expect(200, 'PUT', `/users/${id}/cli_secret`, { secret: 'Cli-Secret-2468' });
      const v2 = await fetch(`${b.url}/v2/`, {
        headers: { authorization: basicAuth({ username: 'oidc-dev', password: 'Cli-Secret-2468' }) },
      });
      assert.equal(v2.status, 200);
      const wrong = await fetch(`${b.url}/v2/`, {
        headers: { authorization: basicAuth({ username: 'oidc-dev', password: 'Cli-Secret-0000' }) },
      });
      assert.equal(wrong.status, 401);
    });

    it('a robot deleted on A is refused by B within 1 s', async (t) => {
      const created = await apiA.expect<{ id: number; name: string; secret: string }>(
        201,
        'POST',
        '/robots',
        {
          name: 'puller',
          level: 'system',
          duration: -1,
          permissions: [
            {
              kind: 'project',
              namespace: 'cluster',
              access: [{ resource: 'repository', action: 'pull' }],
            },
          ],
        },
      );
      const robot = { username: created.body.name, password: created.body.secret };
      const tagsOnB = () =>
        fetch(`${b.url}/v2/cluster/app/tags/list`, { headers: { authorization: basicAuth(robot) } });
      const tokenOnB = () =>
        fetch(`${b.url}/service/token?service=berth&scope=repository:cluster/app:pull`, {
          headers: { authorization: basicAuth(robot) },
        });
      assert.equal((await tagsOnB()).status, 200);
      assert.equal((await tokenOnB()).status, 200);
      await apiA.expect(200, 'DELETE', `/robots/${created.body.id}`);
      const start = Date.now();
      const ms = await msUntil(start, 'B to refuse the robot', async () => (await tagsOnB()).status === 401);
      assert.ok(ms < 1000, `B refused the robot ${ms} ms after the delete on A`);
      assert.equal((await tokenOnB()).status, 401);
      t.diagnostic(`robot refused on B ${ms} ms after its delete on A returned`);
    });

    it('a tag deleted on A is gone on B within 1 s', async (t) => {
      const onA = new RegistryClient(a.url);
      const onB = new RegistryClient(b.url);
      const manifest = await onA.fetch('/v2/cluster/app/manifests/v1', {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      const digest = manifest.headers.get('docker-content-digest')!;
      const put = await onA.fetch('/v2/cluster/app/manifests/doomed', {
        method: 'PUT',
        headers: { 'content-type': manifest.headers.get('content-type')! },
        body: new Uint8Array(await manifest.arrayBuffer()),
      });
      assert.equal(put.status, 201);
      const headOnB = async (ref: string) =>
        (await onB.fetch(`/v2/cluster/app/manifests/${ref}`, { method: 'HEAD' })).status;
      assert.equal(await headOnB('doomed'), 200);
      await apiA.expect(200, 'DELETE', `/projects/cluster/repositories/app/artifacts/${digest}/tags/doomed`);
      const start = Date.now();
      const ms = await msUntil(
        start,
        'the tag to be gone on B',
        async () => (await headOnB('doomed')) === 404,
      );
      assert.ok(ms < 1000, `B still served the tag ${ms} ms after the delete on A`);
      assert.equal(await headOnB('v1'), 200);
      t.diagnostic(`tag gone on B ${ms} ms after its delete on A returned`);
    });

    it("policies and project settings changed on A are obeyed by B's next push, within 1 s", async (t) => {
      const onB = new RegistryClient(b.url);
      const image = makeImage();
      await onB.pushImage('cluster/policed', image, 'locked'); // B reads (and keeps) the project's policies
      let n = 0;
      const pushOnB = async (tag: string) => {
        const doc = JSON.parse(image.bytes.toString('utf8')) as Record<string, unknown>;
        const m = manifestOf({ ...doc, annotations: { n: String(n++) } });
        const res = await onB.fetch(`/v2/cluster/policed/manifests/${tag}`, {
          method: 'PUT',
          headers: { 'content-type': m.mediaType },
          body: new Uint8Array(m.bytes),
        });
        await res.body?.cancel();
        return { status: res.status, digest: m.digest };
      };
      const jobsFor = async (kind: string, digest: string) =>
        (
          await sql<{ n: number }>`select count(*) as n from job
            where kind = ${kind} and payload like ${`%${digest}%`}`.execute(cluster.db)
        ).rows[0]!.n;
      const obeyed = async (what: string, change: () => Promise<unknown>, probe: () => Promise<boolean>) => {
        assert.equal(await probe(), false, `${what}: obeyed before the change`);
        await change();
        const start = Date.now();
        const ms = await msUntil(start, `B to obey ${what}`, probe);
        assert.ok(ms < 1000, `B obeyed ${what} ${ms} ms after A answered`);
        t.diagnostic(`${what}: obeyed by B ${ms} ms after A answered`);
      };

      // A webhook policy created on A: B's push writes its event (the delivery thread fans it out).
      let hook = 0;
      await obeyed(
        'a new webhook policy',
        () =>
          apiA.expect(201, 'POST', '/projects/cluster/webhook/policies', {
            name: 'cluster-hook',
            event_types: ['PUSH_ARTIFACT'],
            targets: [{ type: 'http', address: 'http://127.0.0.1:9/hook' }],
            enabled: true,
          }),
        async () => (await jobsFor('webhook.event', (await pushOnB(`h${hook++}`)).digest)) > 0,
      );
      // Project metadata set on A (scan on push): B's push queues the scan.
      await obeyed(
        'auto_scan set on the project',
        () => apiA.expect(200, 'PUT', '/projects/cluster', { metadata: { auto_scan: 'true' } }),
        async () => (await jobsFor('scan.request', (await pushOnB(`s${hook++}`)).digest)) > 0,
      );
      // An immutability rule created on A: B refuses to move the tag it protects.
      await obeyed(
        'a new immutability rule',
        () =>
          apiA.expect(201, 'POST', '/projects/cluster/immutabletagrules', {
            disabled: false,
            action: 'immutable',
            template: 'immutable_template',
            tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: 'locked' }],
            scope_selectors: {
              repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }],
            },
          }),
        async () => (await pushOnB('locked')).status !== 201,
      );
    });

    it('a schedule firing every second fires once per second across both nodes', async () => {
      const since = new Date().toISOString();
      const parameters = { audit_retention_hour: 720, include_event_types: 'pull', dry_run: true };
      await apiA.expect(201, 'POST', '/system/purgeaudit/schedule', {
        schedule: { type: 'Custom', cron: '* * * * * *' },
        parameters,
      });
      const fires = async () =>
        (
          await sql<{ fire_time: string; job_id: number; kind: string }>`
          select f.fire_time, f.job_id, s.kind from schedule_fire f join schedule s on s.id = f.schedule_id
          where s.cron = '* * * * * *' and f.fire_time >= ${since} order by f.fire_time`.execute(cluster.db)
        ).rows;
      await waitFor('five fires', async () => (await fires()).length >= 5, 15_000, 100);
      const seen = await fires();
      // Removing the schedule removes its fire records too: read them first.
      await apiB.expect(200, 'PUT', '/system/purgeaudit/schedule', {
        schedule: { type: 'None' },
        parameters,
      });
      const kind = seen[0]!.kind;
      const lastJob = Math.max(...seen.map((f) => f.job_id));
      const jobs = await sql<{ id: number }>`
      select id from job where kind = ${kind} and creation_time >= ${since} and id <= ${lastJob}`.execute(
        cluster.db,
      );
      // One job per fire: no fire time was claimed twice, no job was enqueued without its claim.
      assert.equal(new Set(seen.map((f) => f.fire_time)).size, seen.length);
      assert.deepEqual(
        jobs.rows.map((j) => j.id).sort((x, y) => x - y),
        seen.map((f) => f.job_id).sort((x, y) => x - y),
      );
      // Consecutive seconds: neither node skipped a fire the other should have made.
      const times = seen.map((f) => Date.parse(f.fire_time));
      for (let i = 1; i < times.length; i++)
        assert.ok(times[i]! - times[i - 1]! <= 2000, 'a fire went missing');
    });

    it('B, with jobs.workers 0, serves but runs no job: A ran every one', async () => {
      const jobs = await waitFor('the purge jobs to finish', async () => {
        const rows = (
          await sql<{ status: string; lease_owner: string | null }>`
            select status, lease_owner from job where kind = 'audit.purge'`.execute(cluster.db)
        ).rows;
        return rows.length > 0 && rows.every((r) => r.status === 'succeeded') && rows;
      });
      const pids = new Set(jobs.map((j) => Number(j.lease_owner!.split(':')[1])));
      assert.deepEqual([...pids], [a.pid]);
      const pools = await sql<{ pid: number }>`select pid from job_worker_pool`.execute(cluster.db);
      assert.deepEqual(
        pools.rows.map((r) => Number(r.pid)),
        [a.pid],
      );
    });
  },
);
