import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../test/helpers/databases.js';
import { testKind, testWorker, untilAborted } from '../../test/helpers/jobs.js';
import { waitFor } from '../../test/helpers/wait.js';
import { MetaStore } from '../db/store.js';
import { AppError } from '../lib/errors.js';
import { backoffMs, PermanentJobError } from './kind.js';
import { JobQueue } from './queue.js';

const noop = testKind('test.noop', async () => {});

for (const dialect of testDialects()) {
  describe(`JobQueue and JobWorker on ${dialect}`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    before(async () => ({ store, database } = await createTestStore(dialect)));
    after(() => database.close());

    const statusOf = async (id: number) => (await store.jobs.find(id))!.status;

    test('a job enqueued in a transaction exists only if the transaction commits', async () => {
      const { queue } = testWorker({ store, kinds: [noop] });
      let rolledBack = 0;
      await assert.rejects(
        store.transaction(async (tx) => {
          rolledBack = await queue.enqueue(tx, 'test.noop', { n: 1 });
          throw new Error('caller failed');
        }),
        /caller failed/,
      );
      assert.equal(await store.jobs.find(rolledBack), undefined);
      const kept = await store.transaction((tx) => queue.enqueue(tx, 'test.noop', { n: 2 }));
      const row = await store.jobs.find(kept);
      assert.equal(row?.status, 'pending');
      assert.equal(row?.max_attempts, 3);
      assert.deepEqual(JSON.parse(row!.payload), { n: 2 });
    });

    test('enqueue rejects an unknown kind and a bad payload, and writes nothing', async () => {
      const { queue } = testWorker({ store, kinds: [noop] });
      const before = await store.jobs.claim({ owner: 'x', kinds: ['nope'], now: 'z', leaseUntil: 'z' });
      assert.equal(before, undefined);
      await assert.rejects(queue.add('test.unknown', {}), (e: AppError) => {
        assert.equal(e.code, 'BAD_REQUEST');
        assert.match(e.message, /unknown job kind test\.unknown/);
        return true;
      });
      await assert.rejects(queue.add('test.noop', { n: 'one' }), /invalid payload for job kind test\.noop/);
      await assert.rejects(queue.add('test.noop', { n: 1, extra: true }), /invalid payload/);
    });

    test('a worker claims, runs and completes a job, and its log reads in order', async () => {
      const seen: number[] = [];
      const kind = testKind('test.run', async (p, ctx) => {
        seen.push(p.n);
        await ctx.log(`working on ${p.n}`);
      });
      const { queue, worker } = testWorker({ store, kinds: [kind] });
      const id = await queue.add('test.run', { n: 7 });
      worker.start();
      try {
        await waitFor('job to succeed', async () => (await statusOf(id)) === 'succeeded');
      } finally {
        await worker.close();
      }
      assert.deepEqual(seen, [7]);
      const row = (await queue.get(id))!;
      assert.equal(row.attempts, 1);
      assert.equal(row.lease_owner, worker.owner);
      assert.ok(row.start_time && row.end_time && row.end_time >= row.start_time);
      const lines = (await queue.logs(id)).map((l) => l.line);
      assert.match(lines[0]!, /^attempt 1 of 3 started/);
      assert.deepEqual(lines.slice(1), ['working on 7', 'succeeded']);
      const page = await queue.logs(id, (await queue.logs(id))[0]!.id, 1);
      assert.deepEqual(
        page.map((l) => l.line),
        ['working on 7'],
      );
    });

    test('lines logged one after another are written together, in order, readable once awaited', async () => {
      let readable: string[] = [];
      const kind = testKind('test.lines', async (_p, ctx) => {
        // One turn of the event loop (a scan logs its scanning process's lines so): one INSERT.
        const written = [0, 1, 2, 3, 4].map((i) => ctx.log(`line ${i}`));
        await Promise.all(written);
        readable = (await store.jobs.logs(ctx.jobId)).map((l) => l.line);
        await ctx.log('after');
      });
      const { queue, worker } = testWorker({ store, kinds: [kind] });
      const id = await queue.add('test.lines', { n: 1 });
      worker.start();
      try {
        await waitFor('job to succeed', async () => (await statusOf(id)) === 'succeeded');
      } finally {
        await worker.close();
      }
      const lines = ['line 0', 'line 1', 'line 2', 'line 3', 'line 4'];
      assert.deepEqual(readable.slice(1), lines);
      const all = (await queue.logs(id)).map((l) => l.line);
      assert.deepEqual(all.slice(1), [...lines, 'after', 'succeeded']);
    });

    test('concurrent claimers on separate connections never claim the same job twice', async () => {
      const { queue } = testWorker({ store, kinds: [testKind('test.race', async () => {})] });
      const ids = new Set<number>();
      for (let i = 0; i < 120; i++) ids.add(await queue.add('test.race', { n: i }));
      const handles = Array.from({ length: 4 }, () => database.open(4));
      const claimed: number[] = [];
      const claimer = async (s: MetaStore, owner: string) => {
        for (;;) {
          const now = new Date();
          const row = await s.jobs.claim({
            owner,
            kinds: ['test.race'],
            now: now.toISOString(),
            leaseUntil: new Date(now.getTime() + 60_000).toISOString(),
          });
          if (!row) return;
          claimed.push(row.id);
        }
      };
      await Promise.all(
        handles.flatMap((h, i) => [0, 1, 2].map((j) => claimer(new MetaStore(h.db), `claimer-${i}-${j}`))),
      );
      assert.equal(claimed.length, ids.size, 'every job claimed exactly once');
      assert.equal(new Set(claimed).size, claimed.length, 'no job claimed twice');
      for (const id of claimed) assert.ok(ids.has(id));
    });

    test('a failing job is retried with exponential backoff, then fails naming the error', async () => {
      let now = Date.parse('2030-01-01T00:00:00Z');
      const clock = { now: () => new Date(now) };
      let runs = 0;
      const kind = testKind('test.flaky', async () => {
        runs++;
        throw new Error(`remote said 503 (run ${runs})`);
      });
      const { queue, worker } = testWorker({ store, clock, kinds: [kind] });
      const id = await queue.add('test.flaky', { n: 1 });
      const settle = (status: string, attempts: number) =>
        waitFor(`attempt ${attempts} to end ${status}`, async () => {
          const r = (await queue.get(id))!;
          return r.status === status && r.attempts === attempts && r;
        });

      await worker.tick();
      let row = await settle('pending', 1);
      const delay1 = Date.parse(row.run_after) - now;
      assert.ok(delay1 >= 1000 && delay1 <= 1100, `first backoff ${delay1} ms`);
      assert.equal(row.last_error, 'remote said 503 (run 1)');

      now += delay1 - 1;
      await worker.tick();
      assert.equal(runs, 1, 'not run again before its backoff elapsed');
      now += 1;
      await worker.tick();
      row = await settle('pending', 2);
      const delay2 = Date.parse(row.run_after) - now;
      assert.ok(delay2 >= 2000 && delay2 <= 2200, `second backoff ${delay2} ms`);

      now += delay2;
      await worker.tick();
      row = await settle('failed', 3);
      assert.equal(row.last_error, 'remote said 503 (run 3)');
      assert.equal(runs, 3);
      const lines = (await queue.logs(id)).map((l) => l.line);
      assert.equal(lines.filter((l) => /retrying in/.test(l)).length, 2);
      assert.equal(lines.at(-1), 'failed: remote said 503 (run 3)');
      await worker.close();
    });

    test('a permanent error fails the job without retrying', async () => {
      const kind = testKind('test.permanent', async () => {
        throw new PermanentJobError('the policy was deleted');
      });
      const { queue, worker } = testWorker({ store, kinds: [kind] });
      const id = await queue.add('test.permanent', { n: 1 });
      await worker.tick();
      await waitFor('job to fail', async () => (await statusOf(id)) === 'failed');
      const row = (await queue.get(id))!;
      assert.equal(row.attempts, 1);
      assert.equal(row.last_error, 'the policy was deleted');
      await worker.close();
    });

    test('outcome hooks run once, in the transaction that records the final outcome, never for a retried run', async () => {
      const seen: string[] = [];
      const followUp = testKind('test.follow', async () => {});
      let runs = 0;
      const kind = testKind(
        'test.hooked',
        async (p, ctx) => {
          runs++;
          ctx.onOutcome(async (tx, outcome) => {
            // Written with the outcome: a follow-up job enqueued in the same transaction.
            await queue.enqueue(tx, 'test.follow', { n: p.n });
            seen.push(`${p.n} ${outcome} in tx`);
            return () => seen.push(`${p.n} ${outcome} after commit`);
          });
          if (p.n === 2 && ctx.attempt < 3) throw new Error('try again');
          if (p.n === 3) throw new PermanentJobError('gone');
        },
        { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
      );
      const { queue, worker } = testWorker({
        store,
        kinds: [kind, followUp],
        concurrency: { 'test.follow': 0 },
      });
      const ok = await queue.add('test.hooked', { n: 1 });
      await worker.tick();
      await waitFor('the first job to succeed', async () => (await statusOf(ok)) === 'succeeded');
      const retried = await queue.add('test.hooked', { n: 2 });
      await waitFor('the retried job to succeed', async () => {
        await worker.tick();
        return (await statusOf(retried)) === 'succeeded';
      });
      const failed = await queue.add('test.hooked', { n: 3 });
      await worker.tick();
      await waitFor('the third job to fail', async () => (await statusOf(failed)) === 'failed');
      await waitFor('the after-commit calls', () => seen.length === 6);
      assert.deepEqual(seen, [
        '1 succeeded in tx',
        '1 succeeded after commit',
        '2 succeeded in tx',
        '2 succeeded after commit',
        '3 failed in tx',
        '3 failed after commit',
      ]);
      assert.equal(runs, 1 + 3 + 1, 'the second job ran three times but its hook ran once');
      const follows = await store.jobs.claim({
        owner: 't',
        kinds: ['test.follow'],
        now: '9999',
        leaseUntil: '9999',
      });
      assert.ok(follows, 'the hook enqueued a follow-up job with the outcome');
      await worker.close();
    });

    test('stop: a pending job never runs; a running handler sees its signal abort and ends stopped', async () => {
      let started = 0;
      let aborted: unknown;
      const kind = testKind('test.long', async (_p, ctx) => {
        started++;
        await untilAborted(ctx.signal).catch((e: unknown) => {
          aborted = ctx.signal.reason;
          throw e;
        });
      });
      const { queue, worker } = testWorker({ store, kinds: [kind], leaseMs: 600, workers: 1 });
      const running = await queue.add('test.long', { n: 1 });
      worker.start();
      await waitFor('job to run', async () => started === 1 && (await statusOf(running)) === 'running');
      const pending = await queue.add('test.long', { n: 2 });
      assert.equal(await queue.stop(pending), 'stopped');
      // Asked on another node: this worker sees the flag at its next heartbeat.
      const otherNode = new JobQueue({ store, clock: { now: () => new Date() } });
      assert.equal(await otherNode.stop(running), 'running');
      await waitFor('running job to stop', async () => (await statusOf(running)) === 'stopped', 5000);
      await worker.close();
      assert.equal(aborted, 'stop requested');
      assert.equal(started, 1, 'the stopped pending job never ran');
      assert.equal((await queue.logs(running)).at(-1)?.line, 'stopped');
      await assert.rejects(queue.stop(999_999), /job 999999 not found/);
    });

    test('stop asked of the process running the job aborts its handler at once, not at the next heartbeat', async () => {
      let signal: AbortSignal | undefined;
      const kind = testKind('test.long', async (_p, ctx) => {
        signal = ctx.signal;
        await untilAborted(ctx.signal);
      });
      // A 10-minute lease: the heartbeat (and the stop flag it reads) comes every 2 s.
      const { queue, worker } = testWorker({ store, kinds: [kind], leaseMs: 600_000, workers: 1 });
      const id = await queue.add('test.long', { n: 1 });
      worker.start();
      await waitFor('job to run', async () => signal !== undefined && (await statusOf(id)) === 'running');
      assert.equal(await queue.stop(id), 'running');
      assert.equal(signal!.aborted, true, 'aborted when stop() returns');
      assert.equal(signal!.reason, 'stop requested');
      await waitFor('job to end stopped', async () => (await statusOf(id)) === 'stopped', 5000);
      assert.equal((await queue.logs(id)).at(-1)?.line, 'stopped');
      await worker.close();
    });

    test('per-kind concurrency caps how many jobs of a kind run at once', async () => {
      let active = 0;
      let peak = 0;
      const release: (() => void)[] = [];
      const kind = testKind('test.capped', async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise<void>((r) => release.push(r));
        active--;
      });
      const { queue, worker } = testWorker({
        store,
        kinds: [kind],
        workers: 4,
        concurrency: { 'test.capped': 2 },
      });
      const ids = await Promise.all([1, 2, 3, 4, 5].map((n) => queue.add('test.capped', { n })));
      worker.start();
      const done = async () => {
        const rows = await Promise.all(ids.map((id) => statusOf(id)));
        return rows.every((s) => s === 'succeeded');
      };
      while (!(await done())) {
        await new Promise((r) => setTimeout(r, 30));
        release.splice(0).forEach((r) => r());
      }
      await worker.close();
      assert.equal(peak, 2);
    });

    test('jobs a finishing job adds, and jobs a cap held back, run without waiting for the poll', async () => {
      const order: string[] = [];
      const added: { to?: JobQueue } = {};
      const first = testKind('test.first', async (p) => {
        order.push(`first ${p.n}`);
        await added.to!.add('test.second', { n: p.n });
      });
      const second = testKind('test.second', async (p) => {
        order.push(`second ${p.n}`);
      });
      const capped = testKind('test.one', async (p) => {
        order.push(`one ${p.n}`);
      });
      // A poll a minute away: only the worker's own re-claims can run these in time.
      const { queue, worker } = testWorker({
        store,
        kinds: [first, second, capped],
        concurrency: { 'test.one': 1 },
        pollMs: 60_000,
      });
      added.to = queue;
      await queue.add('test.first', { n: 1 });
      for (const n of [1, 2, 3]) await queue.add('test.one', { n });
      worker.start();
      try {
        await waitFor('every job to run', () => order.length === 5, 10_000);
      } finally {
        await worker.close();
      }
      assert.ok(order.indexOf('first 1') < order.indexOf('second 1'));
      assert.deepEqual(
        order.filter((o) => o.startsWith('one')),
        ['one 1', 'one 2', 'one 3'],
      );
    });

    test('a batch claim takes the oldest runnable jobs, keeping each pool, kind and group to its room', async () => {
      const grouped = {
        ...testKind('test.batch-a', async () => {}),
        group: { of: (p: { n: number }) => String(p.n % 2), cap: 9 },
      };
      const { queue } = testWorker({ store, kinds: [grouped, testKind('test.batch-b', async () => {})] });
      const a = [];
      for (let n = 0; n < 8; n++) a.push(await queue.add('test.batch-a', { n }));
      const b = [];
      for (let n = 0; n < 3; n++) b.push(await queue.add('test.batch-b', { n }));
      const now = new Date().toISOString();
      const req = { owner: 'batcher', now, leaseUntil: now };
      // Group 1 runs here with room for one more, group 0 is new (its kind's cap: 2); b is capped at 1.
      const first = await store.jobs.claimBatch({
        ...req,
        kinds: ['test.batch-a', 'test.batch-b'],
        limit: 10,
        poolRoom: { '': 10 },
        kindRoom: { 'test.batch-b': 1 },
        groupRoom: { 'test.batch-a:1': 1 },
        groupCap: { 'test.batch-a': 2 },
      });
      assert.deepEqual(
        first.map((r) => r.id),
        [a[0], a[1], a[2], b[0]],
        'oldest first: two of group 0, one of group 1, one b',
      );
      assert.ok(
        first.every((r) => r.status === 'running' && r.lease_owner === 'batcher' && r.attempts === 1),
      );
      // A kind with a pool of its own is counted apart from the shared pool, which is full here.
      const second = await store.jobs.claimBatch({
        ...req,
        kinds: ['test.batch-a', 'test.batch-b'],
        limit: 3,
        poolRoom: { '': 0, 'test.batch-a': 3 },
        poolOf: { 'test.batch-a': 'test.batch-a' },
        fullGroups: ['test.batch-a:0'],
      });
      assert.deepEqual(
        second.map((r) => r.id),
        [a[3], a[5], a[7]],
        'only a, only group 1',
      );
      assert.deepEqual(
        await store.jobs
          .claimBatch({ ...req, kinds: ['test.batch-b'], limit: 5, poolRoom: { '': 5 } })
          .then((r) => r.map((x) => x.id)),
        [b[1], b[2]],
      );
    });

    test('a kind with a pool of its own runs beside a full shared pool, and writes its log with its outcome', async () => {
      let active = 0;
      let peak = 0;
      const release: (() => void)[] = [];
      const linesWhileRunning: number[] = [];
      const pooled = {
        ...testKind('test.pooled', async (p, ctx) => {
          active++;
          peak = Math.max(peak, active);
          await ctx.log(`sending ${p.n}`);
          linesWhileRunning.push((await store.jobs.logs(ctx.jobId)).length);
          await new Promise<void>((r) => release.push(r));
          active--;
        }),
        pool: { slots: 3 },
        logWithOutcome: true,
      };
      const hog = testKind('test.hog', (_p, ctx) => untilAborted(ctx.signal));
      const { queue, worker } = testWorker({ store, kinds: [pooled, hog], workers: 1 });
      const hogId = await queue.add('test.hog', { n: 0 });
      const ids = await Promise.all([1, 2, 3, 4, 5].map((n) => queue.add('test.pooled', { n })));
      worker.start();
      const done = async () => (await Promise.all(ids.map(statusOf))).every((s) => s === 'succeeded');
      while (!(await done())) {
        await new Promise((r) => setTimeout(r, 30));
        release.splice(0).forEach((r) => r());
      }
      assert.equal(await statusOf(hogId), 'running', 'the shared slot stayed with its job');
      await worker.close();
      assert.equal(peak, 3);
      assert.deepEqual(linesWhileRunning, [0, 0, 0, 0, 0], 'nothing written while running');
      const lines = (await queue.logs(ids[0]!)).map((l) => l.line);
      assert.match(lines[0]!, /^attempt 1 of 3 started/);
      assert.deepEqual(lines.slice(1), ['sending 1', 'succeeded']);
    });

    test('closing a worker hands its running job back without spending an attempt', async () => {
      const kind = testKind('test.shutdown', (_p, ctx) => untilAborted(ctx.signal));
      const { queue, worker } = testWorker({ store, kinds: [kind] });
      const id = await queue.add('test.shutdown', { n: 1 });
      worker.start();
      await waitFor('job to run', async () => (await statusOf(id)) === 'running');
      await worker.close();
      const row = (await queue.get(id))!;
      assert.equal(row.status, 'pending');
      assert.equal(row.attempts, 0);
      assert.equal(row.lease_owner, null);
    });

    test('a running job whose lease expired with no attempts left is failed with a reason', async () => {
      const kind = testKind('test.lost', async () => {}, { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10 });
      const { queue } = testWorker({ store, kinds: [kind] });
      const id = await queue.add('test.lost', { n: 1 });
      const t0 = new Date();
      const claim = await store.jobs.claim({
        owner: 'dead-worker',
        kinds: ['test.lost'],
        now: t0.toISOString(),
        leaseUntil: new Date(t0.getTime() + 1).toISOString(),
      });
      assert.equal(claim?.id, id);
      const later = new Date(t0.getTime() + 10).toISOString();
      const again = await store.jobs.claim({
        owner: 'w2',
        kinds: ['test.lost'],
        now: later,
        leaseUntil: later,
      });
      assert.equal(again, undefined, 'not reclaimed: no attempts left');
      assert.equal(await store.jobs.reapExpired(later), 1);
      const row = (await queue.get(id))!;
      assert.equal(row.status, 'failed');
      assert.match(row.last_error!, /stopped responding/);
    });
  });
}

test('backoff doubles per attempt, is capped, and adds at most 10% jitter', () => {
  const policy = { maxAttempts: 10, baseDelayMs: 1000, maxDelayMs: 5000 };
  assert.equal(
    backoffMs(policy, 1, () => 0),
    1000,
  );
  assert.equal(
    backoffMs(policy, 2, () => 0),
    2000,
  );
  assert.equal(
    backoffMs(policy, 3, () => 0),
    4000,
  );
  assert.equal(
    backoffMs(policy, 4, () => 0),
    5000,
  );
  assert.equal(
    backoffMs(policy, 1, () => 1),
    1100,
  );
});
