// Failures of a cluster of two Berth nodes on PostgreSQL + S3: a node SIGKILLed in the middle of a
// replication (the other node takes the job over when its lease runs out and finishes it), PostgreSQL
// restarting under both nodes (503 with Retry-After meanwhile, no node dies, service resumes by itself),
// and S3 out of reach (503 with Retry-After, nothing recorded that storage does not hold).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { BerthProcess } from '../../helpers/berth-process.js';
import { clusterS3, startCluster, type Cluster } from '../../helpers/cluster.js';
import type { RunningS3Server } from '../../helpers/s3-server.js';
import {
  dockerRegistryBinary,
  startDockerRegistry,
  type RunningDockerRegistry,
} from '../../helpers/docker-registry.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';
import { startSlowProxy, type SlowProxy } from '../../helpers/slow-proxy.js';
import { hasTool, needTools, requireAll } from '../../helpers/tools.js';
import { waitFor } from '../../helpers/wait.js';

const needsPg = { skip: !process.env.BERTH_TEST_PG_URL && !requireAll };

let s3: RunningS3Server | undefined;
let s3Stopped = false;
before(async () => {
  if (!needsPg.skip) s3 = await clusterS3();
});
after(async () => {
  if (!s3Stopped) await s3?.stop();
});

describe('a node killed with SIGKILL during a replication', needsPg, () => {
  let cluster: Cluster;
  let registry: RunningDockerRegistry | undefined;
  let proxy: SlowProxy | undefined;
  const leaseSeconds = 3;

  before(async () => {
    cluster = await startCluster({
      nodes: 2,
      s3,
      env: { BERTH_JOBS_LEASE_SECONDS: String(leaseSeconds), BERTH_JOBS_POLL_INTERVAL_MS: '100' },
    });
    if (!hasTool(dockerRegistryBinary)) return;
    registry = await startDockerRegistry({ logLevel: 'warn' });
    // 4 MiB at 1 MiB/s: the copy to the target runs for seconds, long enough to kill its node.
    proxy = await startSlowProxy(registry.host, 1024 * 1024);
  });
  after(async () => {
    await cluster?.close();
    await proxy?.close();
    await registry?.stop();
  });

  it('the surviving node takes the copy over after the lease and the execution succeeds', async (t) => {
    if (!needTools(t, dockerRegistryBinary)) return;
    const [a, b] = cluster.nodes as [BerthProcess, BerthProcess];
    const api = new HarborApi(a.url);
    await api.expect(201, 'POST', '/projects', { project_name: 'src' });
    const image = makeImage({ layers: 1, layerSize: 4 * 1024 * 1024 });
    await new RegistryClient(a.url).pushImage('src/big', image, 'v1');
    const reg = await api.expect(201, 'POST', '/registries', {
      name: 'slow-dist',
      type: 'docker-registry',
      url: proxy!.url,
      insecure: true,
    });
    const registryId = Number(reg.headers.get('location')!.split('/').pop());
    const policy = await api.expect(201, 'POST', '/replication/policies', {
      name: 'to-dist',
      dest_registry: { id: registryId },
      dest_namespace: 'mirror',
      dest_namespace_replace_count: 1,
      filters: [{ type: 'name', value: 'src/**' }],
      trigger: { type: 'manual' },
    });
    const policyId = Number(policy.headers.get('location')!.split('/').pop());
    const started = await api.expect(201, 'POST', '/replication/executions', { policy_id: policyId });
    const executionUrl = started.headers.get('location')!.replace('/api/v2.0', '');

    const running = await waitFor(
      'a node to be copying',
      async () =>
        (
          await sql<{ id: number; lease_owner: string }>`
            select id, lease_owner from job where kind = 'replication.copy' and status = 'running'`.execute(
            cluster.db,
          )
        ).rows[0],
      60_000,
      20,
    );
    const pidOf = (owner: string) => Number(owner.split(':')[1]);
    const victim = cluster.nodes.find((n) => n.pid === pidOf(running.lease_owner))!;
    const survivor = victim === a ? b : a;
    await victim.kill('SIGKILL');
    const killedAt = Date.now();

    const survivorApi = new HarborApi(survivor.url);
    const execution = await waitFor(
      'the execution to end on the survivor',
      async () => {
        const e = (
          await survivorApi.expect<{ status: string; status_text: string }>(200, 'GET', executionUrl)
        ).body;
        return e.status !== 'InProgress' && e;
      },
      90_000,
      200,
    );
    const tookMs = Date.now() - killedAt;
    assert.equal(execution.status, 'Succeed', execution.status_text);
    const job = (
      await sql<{ lease_owner: string; attempts: number; status: string }>`
        select lease_owner, attempts, status from job where id = ${running.id}`.execute(cluster.db)
    ).rows[0]!;
    assert.equal(job.status, 'succeeded');
    assert.equal(pidOf(job.lease_owner), survivor.pid);
    assert.equal(job.attempts, 2);
    const log = await jobLog(running.id);
    assert.match(log, new RegExp(`attempt 1 of \\d+ started on [^:]+:${victim.pid}:`));
    assert.match(log, new RegExp(`attempt 2 of \\d+ started on [^:]+:${survivor.pid}:`));
    const head = await fetch(`${registry!.url}/v2/mirror/big/manifests/v1`, {
      method: 'HEAD',
      headers: { accept: image.mediaType },
    });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('docker-content-digest'), image.digest);
    t.diagnostic(
      `replication finished on the survivor ${tookMs} ms after the kill (lease ${leaseSeconds} s)`,
    );
  });

  async function jobLog(id: number): Promise<string> {
    const rows = await sql<{
      line: string;
    }>`select line from job_log where job_id = ${id} order by id`.execute(cluster.db);
    return rows.rows.map((r) => r.line).join('\n');
  }
});

describe('PostgreSQL restarting, then S3 out of reach, under two nodes', needsPg, () => {
  let pg: PostgresServer;
  let cluster: Cluster;

  before(async () => {
    pg = await startPostgres();
    cluster = await startCluster({ nodes: 2, adminUrl: pg.adminUrl, s3 });
  });
  after(async () => {
    await cluster?.close();
    await pg?.stop();
  });

  it('answers 503 with Retry-After while the database is down, keeps both nodes up, and recovers', async (t) => {
    const [a, b] = cluster.nodes as [BerthProcess, BerthProcess];
    await new HarborApi(a.url).expect(201, 'POST', '/projects', { project_name: 'kept' });
    const before = makeImage({ layers: 1, layerSize: 1000 });
    await new RegistryClient(a.url).pushImage('kept/app', before, 'v1');

    pg.halt();
    const downAt = Date.now();
    t.after(() => {
      for (const node of [a, b]) if (!node.running) t.diagnostic(node.output());
    });
    for (const node of [a, b]) {
      const res = await new RegistryClient(node.url).fetch('/v2/kept/app/manifests/v1', { method: 'HEAD' });
      assert.equal(res.status, 503, `${node.url} answered ${res.status} with the database down`);
      assert.equal(res.headers.get('retry-after'), '1');
      const api = await new HarborApi(node.url).call('GET', '/projects');
      assert.equal(api.status, 503, api.text);
      assert.match(api.text, /"code":"UNAVAILABLE"/);
      assert.equal((await fetch(`${node.url}/health`)).status, 503);
    }
    pg.resume();
    const upAt = Date.now();
    for (const node of [a, b]) {
      const client = new RegistryClient(node.url);
      const res = await waitFor(
        `${node.url} to serve again`,
        async () => {
          const r = await client.fetch('/v2/kept/app/manifests/v1', { method: 'HEAD' });
          return r.status === 200 && r;
        },
        30_000,
        100,
      );
      assert.equal(res.headers.get('docker-content-digest'), before.digest);
      assert.ok(node.running, `${node.url} exited: ${node.output()}`);
    }
    const after = makeImage({ layers: 1, layerSize: 1000 });
    await new RegistryClient(b.url).pushImage('kept/app', after, 'v2');
    const tags = await new RegistryClient(a.url).getJson<{ tags: string[] }>('/v2/kept/app/tags/list');
    assert.deepEqual(tags.body.tags.sort(), ['v1', 'v2']);
    t.diagnostic(
      `database down ${upAt - downAt} ms; both nodes served again ${Date.now() - upAt} ms after it was back`,
    );
  });

  it('answers 503 with Retry-After while S3 is out of reach and records nothing it could not store', async (t) => {
    if (!s3) return t.skip('no S3 server (Ceph tools not installed): the nodes share a folder');
    const [a, b] = cluster.nodes as [BerthProcess, BerthProcess];
    const client = new RegistryClient(a.url);
    const { body: manifest } = await client.getJson<{ layers: { digest: string }[] }>(
      '/v2/kept/app/manifests/v1',
      { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } },
    );
    const lost = makeImage({ layers: 1, layerSize: 2000 });
    await s3.stop();
    s3Stopped = true;
    const blob = await client.fetch(`/v2/kept/app/blobs/${manifest.layers[0]!.digest}`);
    assert.equal(blob.status, 503, await blob.text());
    assert.equal(blob.headers.get('retry-after'), '1');
    const layer = lost.blobs.at(-1)!;
    const push = await new RegistryClient(b.url).fetch(`/v2/kept/app/blobs/uploads/?digest=${layer.digest}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array(layer.bytes),
    });
    assert.equal(push.status, 503, await push.text());
    assert.equal(push.headers.get('retry-after'), '1');
    const put = await client.fetch('/v2/kept/app/manifests/lost', {
      method: 'PUT',
      headers: { 'content-type': lost.mediaType },
      body: new Uint8Array(lost.bytes),
    });
    assert.ok([400, 503].includes(put.status), `manifest PUT answered ${put.status}`);
    const rows = await sql<{ n: number }>`
      select count(*) as n from blob where digest = ${layer.digest}`.execute(cluster.db);
    assert.equal(Number(rows.rows[0]!.n), 0, 'a blob S3 never stored is not recorded');
    const tag = await client.fetch('/v2/kept/app/manifests/lost', { method: 'HEAD' });
    assert.equal(tag.status, 404);
    for (const node of [a, b]) assert.ok(node.running, `${node.url} exited: ${node.output()}`);
    const health = await fetch(`${a.url}/health`);
    assert.equal(health.status, 503);
  });
});
