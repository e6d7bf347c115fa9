import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BerthApp } from '../../../src/app.js';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { testKind, untilAborted } from '../../helpers/jobs.js';
import { waitFor } from '../../helpers/wait.js';

interface Queue {
  job_type: string;
  count: number;
  latency: number;
  paused: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const backend of backends()) {
  describe(`/api/v2.0 job service dashboard and schedules (${backend})`, () => {
    let berth: RunningBerth;
    let api: HarborApi;
    let app: BerthApp;
    const queue = async (type: string) => {
      const res = await api.expect<Queue[]>(200, 'GET', '/jobservice/queues');
      const q = res.body.find((x) => x.job_type === type);
      assert.ok(q, `no queue ${type} in ${res.text}`);
      return q;
    };
    const status = async (id: number) => (await app.store.jobs.find(id))!.status;

    before(async () => {
      berth = await startBerth({ backend, overrides: { jobs: { pollIntervalMs: 30, workers: 2 } } });
      api = new HarborApi(berth.url);
      app = berth.app;
      app.jobs.queue.register(testKind('test.quick', async () => undefined));
      app.jobs.queue.register(testKind('test.block', (_p, ctx) => untilAborted(ctx.signal)));
    });
    after(() => berth.close());

    it('queue figures count the jobs actually enqueued, per kind, while the queue is paused', async () => {
      await api.expect(200, 'PUT', '/jobservice/queues/test.quick', { action: 'pause' });
      const ids: number[] = [];
      for (let n = 0; n < 5; n++) ids.push(await app.jobs.queue.add('test.quick', { n }));
      await sleep(300); // many poll intervals: nothing may be claimed
      const q = await queue('test.quick');
      assert.deepEqual({ count: q.count, paused: q.paused }, { count: 5, paused: true });
      assert.ok(q.latency >= 0 && q.latency < 60, `latency ${q.latency}`);
      for (const id of ids) assert.equal(await status(id), 'pending');
      assert.equal((await queue('test.block')).count, 0);

      await api.expect(200, 'PUT', '/jobservice/queues/TEST.QUICK', { action: 'resume' });
      await waitFor(
        'the job to settle',
        async () => (await Promise.all(ids.map(status))).every((s) => s === 'succeeded'),
        10_000,
      );
      assert.deepEqual(await queue('test.quick'), {
        job_type: 'test.quick',
        count: 0,
        latency: 0,
        paused: false,
      });
    });

    it('a pause holds for every worker: one started after the pause claims nothing either', async () => {
      await api.expect(200, 'PUT', '/jobservice/queues/test.quick', { action: 'pause' });
      const id = await app.jobs.queue.add('test.quick', { n: 1 });
      // A second node's worker over the same database: the paused state is read in its claim.
      const { JobWorker } = await import('../../../src/jobs/worker.js');
      const other = new JobWorker({
        store: app.store,
        queue: app.jobs.queue,
        clock: { now: () => new Date() },
        log: app.logger,
        workers: 1,
        leaseMs: 30_000,
        pollMs: 20,
        owner: 'other-node',
      });
      await other.tick();
      await sleep(200);
      assert.equal(await status(id), 'pending');
      await api.expect(200, 'PUT', '/jobservice/queues/test.quick', { action: 'resume' });
      await waitFor('the job to settle', async () => (await status(id)) === 'succeeded', 10_000);
      await other.close();
    });

    it('stop empties a queue of its pending jobs only', async () => {
      await api.expect(200, 'PUT', '/jobservice/queues/test.quick', { action: 'pause' });
      const ids = [
        await app.jobs.queue.add('test.quick', { n: 1 }),
        await app.jobs.queue.add('test.quick', { n: 2 }),
      ];
      await api.expect(200, 'PUT', '/jobservice/queues/test.quick', { action: 'stop' });
      assert.deepEqual(await Promise.all(ids.map(status)), ['stopped', 'stopped']);
      assert.equal((await queue('test.quick')).count, 0);
      await api.expect(200, 'PUT', '/jobservice/queues/test.quick', { action: 'resume' });
      await api.expectError(400, 'BAD_REQUEST', 'PUT', '/jobservice/queues/test.quick', { action: 'drain' });
      await api.expectError(404, 'NOT_FOUND', 'PUT', '/jobservice/queues/no.such', { action: 'pause' });
    });

    it('pools and workers show the running job; stopping it ends it stopped, with its log', async () => {
      const id = await app.jobs.queue.add('test.block', { n: 7 });
      await waitFor('the job to settle', async () => (await status(id)) === 'running', 10_000);
      const pools = await api.expect<
        { worker_pool_id: string; pid: number; concurrency: number; host: string }[]
      >(200, 'GET', '/jobservice/pools');
      const pool = pools.body.find((p) => p.worker_pool_id === app.jobs.worker!.owner);
      assert.ok(pool, pools.text);
      assert.deepEqual(
        { pid: pool.pid, concurrency: pool.concurrency },
        { pid: process.pid, concurrency: 2 },
      );
      const workers = await api.expect<{ id: string; pool_id: string; job_id?: string; job_name?: string }[]>(
        200,
        'GET',
        `/jobservice/pools/${encodeURIComponent(pool.worker_pool_id)}/workers`,
      );
      assert.equal(workers.body.length, 2);
      const busy = workers.body.filter((w) => w.job_id);
      assert.deepEqual(
        busy.map((w) => [w.job_id, w.job_name]),
        [[String(id), 'test.block']],
      );
      const all = await api.expect<unknown[]>(200, 'GET', '/jobservice/pools/all/workers');
      assert.ok(all.body.length >= 2);
      await api.expectError(404, 'NOT_FOUND', 'GET', '/jobservice/pools/nope/workers');

      await api.expect(200, 'PUT', `/jobservice/jobs/${id}`);
      await waitFor('the job to settle', async () => (await status(id)) === 'stopped', 10_000);
      const log = await api.expect<string>(200, 'GET', `/jobservice/jobs/${id}/log`);
      assert.match(log.text, /attempt 1 of 3 started/);
      assert.match(log.text, /stopped\n$/);
      await api.expectError(404, 'NOT_FOUND', 'PUT', '/jobservice/jobs/999999');
      await api.expectError(404, 'NOT_FOUND', 'GET', '/jobservice/jobs/999999/log');
    });

    it('stopping a pending job stops it before it runs', async () => {
      await api.expect(200, 'PUT', '/jobservice/queues/test.quick', { action: 'pause' });
      const id = await app.jobs.queue.add('test.quick', { n: 3 });
      await api.expect(200, 'PUT', `/jobservice/jobs/${id}`);
      await api.expect(200, 'PUT', '/jobservice/queues/test.quick', { action: 'resume' });
      await sleep(200);
      assert.equal(await status(id), 'stopped');
    });

    it('schedules: listed; pausing the SCHEDULER queue holds due fires, resume fires them', async () => {
      const list = await api.expect<{ id: number; vendor_type: string; vendor_id: number; cron: string }[]>(
        200,
        'GET',
        '/schedules?page=1&page_size=10',
      );
      assert.equal(list.headers.get('x-total-count'), String(list.body.length));
      const purge = list.body.find((s) => s.vendor_type === 'upload.purge');
      assert.deepEqual(purge && { cron: purge.cron, vendor_id: purge.vendor_id }, {
        cron: '0 0 * * * *',
        vendor_id: -1,
      });

      assert.deepEqual((await api.expect(200, 'GET', '/schedules/all/paused')).body, { paused: false });
      await api.expect(200, 'PUT', '/jobservice/queues/SCHEDULER', { action: 'pause' });
      assert.deepEqual((await api.expect(200, 'GET', '/schedules/all/paused')).body, { paused: true });
      assert.equal((await queue('SCHEDULER')).paused, true);

      app.jobs.scheduler.stop(); // tick by hand from here
      await app.jobs.scheduler.upsert({
        name: 'test.every-second',
        cron: '* * * * * *',
        kind: 'test.quick',
        payload: { n: 9 },
      });
      await sleep(1100);
      assert.deepEqual(await app.jobs.scheduler.tick(), []);
      assert.ok((await queue('SCHEDULER')).count >= 1, 'the due schedule waits in the SCHEDULER queue');

      await api.expect(200, 'PUT', '/jobservice/queues/SCHEDULER', { action: 'resume' });
      assert.equal((await app.jobs.scheduler.tick()).length, 1);
      await app.jobs.scheduler.remove('test.every-second');
      await api.expectError(400, 'BAD_REQUEST', 'GET', '/schedules/gc/paused');
      await api.anonymous().expectError(401, 'UNAUTHORIZED', 'GET', '/schedules/all/paused');
    });
  });
}
