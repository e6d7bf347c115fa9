import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../test/helpers/databases.js';
import { testKind } from '../../test/helpers/jobs.js';
import { sql } from 'kysely';
import { MetaStore } from '../db/store.js';
import type { Clock } from '../lib/clock.js';
import { createLogger } from '../lib/logger.js';
import { CronScheduler, nextFire, parseCron } from './cron.js';
import { JobQueue } from './queue.js';

const log = createLogger('silent');
const tickKind = testKind('test.tick', async () => {});

function scheduler(store: MetaStore, clock: Clock, tickMs?: number): CronScheduler {
  const queue = new JobQueue({ store, clock });
  queue.register(tickKind);
  return new CronScheduler({ store, queue, clock, log, tickMs });
}

test("Harbor's 6-field cron: seconds first, evaluated in UTC", () => {
  const at = new Date('2030-05-01T10:20:30.500Z');
  assert.equal(nextFire('0 */1 * * * *', at)?.toISOString(), '2030-05-01T10:21:00.000Z');
  assert.equal(nextFire('15 * * * * *', at)?.toISOString(), '2030-05-01T10:21:15.000Z');
  assert.equal(nextFire('0 0 0 * * *', at)?.toISOString(), '2030-05-02T00:00:00.000Z');
  assert.equal(nextFire('0 0 12 * * 1', at)?.toISOString(), '2030-05-06T12:00:00.000Z');
});

test('a malformed cron is rejected with a message naming the expression', () => {
  assert.throws(() => parseCron('*/5 * * * *'), /invalid cron "\*\/5 \* \* \* \*": expected 6 fields/);
  assert.throws(
    () => parseCron('0 61 * * * *'),
    (e: Error & { code: string }) => {
      assert.equal(e.code, 'BAD_REQUEST');
      assert.match(e.message, /^invalid cron "0 61 \* \* \* \*": /);
      return true;
    },
  );
});

for (const dialect of testDialects()) {
  describe(`CronScheduler on ${dialect}`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    before(async () => ({ store, database } = await createTestStore(dialect)));
    after(() => database.close());

    // Each test sees only its own schedules.
    beforeEach(async () => void (await database.open(1).db.deleteFrom('schedule').execute()));

    test('upsert validates the cron, the kind and the payload, and stores nothing bad', async () => {
      const s = scheduler(store, { now: () => new Date() });
      await assert.rejects(
        s.upsert({ name: 'bad', cron: '* * *', kind: 'test.tick', payload: { n: 1 } }),
        /expected 6 fields/,
      );
      await assert.rejects(
        s.upsert({ name: 'bad', cron: '* * * * * *', kind: 'nope', payload: {} }),
        /unknown job kind nope/,
      );
      await assert.rejects(
        s.upsert({ name: 'bad', cron: '* * * * * *', kind: 'test.tick', payload: {} }),
        /invalid payload/,
      );
      assert.equal(await store.schedules.findByName('bad'), undefined);
    });

    test('a due schedule fires once; a fire missed during downtime fires once, late', async () => {
      let now = Date.parse('2030-01-01T00:00:10.000Z');
      const clock = { now: () => new Date(now) };
      const s = scheduler(store, clock);
      const row = await s.upsert({
        name: 'minutely',
        cron: '0 * * * * *',
        kind: 'test.tick',
        payload: { n: 0 },
      });
      assert.equal(row.next_fire_time, '2030-01-01T00:01:00.000Z');
      assert.deepEqual(await s.tick(), [], 'nothing due yet');
      now = Date.parse('2030-01-01T00:01:00.200Z');
      const first = await s.tick();
      assert.equal(first.length, 1);
      assert.deepEqual(await s.tick(), [], 'the same fire does not repeat');
      const job = (await store.jobs.find(first[0]!))!;
      assert.equal(job.kind, 'test.tick');
      assert.equal(job.status, 'pending');
      // Ten minutes with no scheduler running: one late fire, then back on the minute grid.
      now = Date.parse('2030-01-01T00:11:30.000Z');
      assert.equal((await s.tick()).length, 1);
      const after = (await store.schedules.findByName('minutely'))!;
      assert.equal(after.last_fire_time, '2030-01-01T00:02:00.000Z');
      assert.equal(after.next_fire_time, '2030-01-01T00:12:00.000Z');
    });

    test('disabled and removed schedules do not fire', async () => {
      let now = Date.parse('2030-02-01T00:00:00.000Z');
      const s = scheduler(store, { now: () => new Date(now) });
      await s.upsert({
        name: 'off',
        cron: '* * * * * *',
        kind: 'test.tick',
        payload: { n: 0 },
        enabled: false,
      });
      await s.upsert({ name: 'gone', cron: '* * * * * *', kind: 'test.tick', payload: { n: 0 } });
      assert.equal(await s.remove('gone'), true);
      now += 5000;
      assert.deepEqual(await s.tick(), []);
    });

    test('two schedulers on separate connections ticking together fire each due time exactly once', async () => {
      let now = Date.parse('2030-03-01T00:00:00.500Z');
      const clock = { now: () => new Date(now) };
      const mine = database.open(4);
      const other = database.open(4);
      if (dialect === 'sqlite') {
        // Both connections live in this one process, and better-sqlite3 waits for a lock synchronously:
        // the waiting connection blocks the event loop, so the holder cannot commit until the wait gives up
        // (5 s per tick). Across processes (the real case: `--workers`) the holder goes on. A short wait
        // keeps the race and lets the loser give up at once; its tick fails and fires nothing.
        for (const h of [mine, other]) await sql`pragma busy_timeout = 50`.execute(h.db);
      }
      const a = scheduler(new MetaStore(mine.db), clock);
      const b = scheduler(new MetaStore(other.db), clock);
      await a.upsert({ name: 'race', cron: '* * * * * *', kind: 'test.tick', payload: { n: 0 } });
      const fired: number[] = [];
      for (let i = 0; i < 20; i++) {
        now += 1000;
        const [x, y, z] = await Promise.all([a.tick(), b.tick(), a.tick()]);
        assert.equal(x.length + y.length + z.length, 1, `second ${i}: exactly one fire`);
        fired.push(...x, ...y, ...z);
      }
      assert.equal(new Set(fired).size, 20);
    });

    test('two running schedulers (real clock) fire a per-second schedule once per second', async () => {
      const clock = { now: () => new Date() };
      const other = database.open(4);
      const a = scheduler(store, clock, 50);
      const b = scheduler(new MetaStore(other.db), clock, 50);
      const row = await a.upsert({ name: 'live', cron: '* * * * * *', kind: 'test.tick', payload: { n: 0 } });
      a.start();
      b.start();
      await new Promise((r) => setTimeout(r, 3300));
      a.stop();
      b.stop();
      await new Promise((r) => setTimeout(r, 200));
      const fires = await database
        .open(1)
        .db.selectFrom('schedule_fire')
        .selectAll()
        .where('schedule_id', '=', row.id)
        .execute();
      assert.ok(fires.length >= 3 && fires.length <= 4, `${fires.length} fires in 3.3 s`);
      const jobIds = fires.map((f) => f.job_id);
      assert.ok(jobIds.every((id) => id !== null));
      assert.equal(new Set(jobIds).size, fires.length, 'one job per fire');
      assert.equal(new Set(fires.map((f) => f.fire_time)).size, fires.length);
      for (const f of fires) assert.match(f.fire_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    });
  });
}
