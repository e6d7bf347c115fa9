import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../test/helpers/databases.js';
import { testKind, testWorker } from '../../test/helpers/jobs.js';
import { waitFor } from '../../test/helpers/wait.js';
import type { MetaStore } from '../db/store.js';

const child = fileURLToPath(new URL('../../test/helpers/job-worker-child.ts', import.meta.url));

for (const dialect of testDialects()) {
  describe(`job leases on ${dialect}`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    before(async () => ({ store, database } = await createTestStore(dialect)));
    after(() => database.close());

    test('a job whose worker process was SIGKILLed is reclaimed after its lease expires', async () => {
      const leaseMs = 1500;
      const proc = spawn(
        process.execPath,
        ['--import', 'tsx', child, database.url, 'doomed-worker', String(leaseMs)],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      try {
        await once(proc.stdout!, 'data');
        let finished = 0;
        const survivorKind = testKind('test.block', async (_p, ctx) => {
          await ctx.log('survivor finished the job');
          finished++;
        });
        const { queue, worker } = testWorker({ store, kinds: [survivorKind], leaseMs, owner: 'survivor' });
        const id = await queue.add('test.block', { n: 1 });
        const running = await waitFor('the child to claim the job', async () => {
          const row = await queue.get(id);
          return row?.status === 'running' && row.lease_owner === 'doomed-worker' && row;
        });
        await waitFor('the child to start the handler', async () =>
          (await queue.logs(id)).some((l) => l.line.startsWith('child ')),
        );
        proc.kill('SIGKILL');
        await once(proc, 'exit');
        const killedAt = Date.now();

        worker.start();
        const done = await waitFor('the survivor to finish the job', async () => {
          const row = await queue.get(id);
          return row?.status === 'succeeded' && row;
        });
        await worker.close();
        const tookMs = Date.now() - killedAt;
        assert.equal(finished, 1);
        assert.equal(done.lease_owner, 'survivor');
        assert.equal(done.attempts, 2);
        assert.ok(tookMs <= leaseMs + 2000, `reclaimed ${tookMs} ms after the kill`);
        // The reclaim waited for the lease: not before the dead worker's last heartbeat + lease.
        assert.ok(Date.parse(done.start_time!) <= Date.parse(running.start_time!));
        const lines = (await queue.logs(id)).map((l) => l.line);
        assert.match(lines[0]!, /^attempt 1 of 3 started on doomed-worker/);
        assert.match(lines[1]!, /^child \d+ holds the job$/);
        assert.match(lines[2]!, /^attempt 2 of 3 started on survivor/);
        assert.deepEqual(lines.slice(3), ['survivor finished the job', 'succeeded']);
      } finally {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      }
    });

    test('a live worker keeps its lease by heartbeat: nobody else claims its job', async () => {
      const leaseMs = 300;
      let release!: () => void;
      const slow = testKind('test.slow', () => new Promise<void>((r) => (release = r)));
      const a = testWorker({ store, kinds: [slow], leaseMs, owner: 'holder' });
      const b = testWorker({ store, kinds: [slow], leaseMs, owner: 'thief' });
      const id = await a.queue.add('test.slow', { n: 1 });
      a.worker.start();
      await waitFor('holder to run the job', async () => (await a.queue.get(id))?.status === 'running');
      b.worker.start();
      await new Promise((r) => setTimeout(r, leaseMs * 4));
      const row = (await a.queue.get(id))!;
      assert.equal(row.lease_owner, 'holder');
      assert.equal(row.attempts, 1);
      release();
      await waitFor('job to succeed', async () => (await a.queue.get(id))?.status === 'succeeded');
      await Promise.all([a.worker.close(), b.worker.close()]);
    });
  });
}
