import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import { addArtifact, createTestStore, testDialects, type TestDatabase } from '../../helpers/databases.js';
import type { MetaStore } from '../../../src/db/store.js';
import type { Database } from '../../../src/db/tables.js';
import { systemClock } from '../../../src/lib/clock.js';
import { createLogger } from '../../../src/lib/logger.js';
import { PullRecorder } from '../../../src/services/registry/pull-recorder.js';

const now = '2024-01-01T00:00:00.000Z';

for (const dialect of testDialects()) {
  describe(`PullRecorder on ${dialect}`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    before(async () => ({ store, database } = await createTestStore(dialect)));
    after(() => database.close());

    /** A recorder whose warnings are kept: a flush that fails logs one and drops its pull times. */
    function recorder() {
      const warnings: string[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          warnings.push(chunk.toString());
          done();
        },
      });
      const pulls = new PullRecorder({
        store,
        clock: systemClock,
        log: createLogger('warn', sink),
        intervalMs: 60_000,
      });
      return { pulls, warnings };
    }

    let seq = 0;
    async function tagged() {
      const project = await store.projects.ensure('pulls', now);
      const repo = await store.repositories.ensure(project.id, `pulls/repo${seq++}`, now);
      const artifact = await addArtifact(store, repo.id, `artifact ${seq}`, now);
      await store.tags.put(repo.id, 'v1', artifact.id, now);
      return { repo, artifact };
    }

    test('a flush writes pull times of artifacts and tags and the repositories pull counts', async () => {
      const { pulls, warnings } = recorder();
      const a = await tagged();
      const b = await tagged();
      pulls.record(b.repo.id, b.artifact.id);
      pulls.record(a.repo.id, a.artifact.id);
      pulls.record(b.repo.id, b.artifact.id);
      await pulls.flush();
      assert.deepEqual(warnings, []);
      const db = database.open().db;
      const repos = await db
        .selectFrom('repository')
        .select(['id', 'pull_count'])
        .where('id', 'in', [a.repo.id, b.repo.id])
        .orderBy('id')
        .execute();
      assert.deepEqual(
        repos.map((r) => Number(r.pull_count)),
        [1, 2],
      );
      for (const { artifact } of [a, b]) {
        const row = await db
          .selectFrom('artifact')
          .select('pull_time')
          .where('id', '=', artifact.id)
          .executeTakeFirstOrThrow();
        assert.ok(row.pull_time, 'the artifact has a pull time');
        const tag = await db
          .selectFrom('tag')
          .select('pull_time')
          .where('artifact_id', '=', artifact.id)
          .executeTakeFirstOrThrow();
        assert.ok(tag.pull_time, 'its tag has a pull time');
      }
    });

    // CI saw a repository deleted right after a pull answer 500: the flush had locked the artifact and
    // waited for the repository, while the delete held the repository and waited for the artifact, and
    // PostgreSQL aborted one of the two as a deadlock. The flush now locks in the delete's order.
    test('a repository deleted while a flush waits for it: both finish, no deadlock', async () => {
      const { pulls, warnings } = recorder();
      const { repo, artifact } = await tagged();
      pulls.record(repo.id, artifact.id);
      const other = database.open(2).db;
      let flushed: Promise<void> | undefined;
      await other.transaction().execute(async (trx) => {
        // The delete's first lock: the repository row.
        await sql`update repository set pull_count = pull_count where id = ${repo.id}`.execute(trx);
        flushed = pulls.flush();
        await waitForLockWait(other, dialect);
        await sql`delete from repository where id = ${repo.id}`.execute(trx);
      });
      await flushed;
      assert.deepEqual(warnings, [], 'the flush was not aborted');
      const left = await other.selectFrom('artifact').select('id').where('id', '=', artifact.id).execute();
      assert.deepEqual(left, [], 'the repository went with its artifact');
    });
  });
}

/** Until another connection waits for a row lock (PostgreSQL); SQLite's writers queue on one file lock. */
async function waitForLockWait(db: Kysely<Database>, dialect: string): Promise<void> {
  if (dialect !== 'postgres') return sleep(100);
  for (let i = 0; i < 200; i++) {
    const { rows } = await sql<{ n: string }>`
      select count(*) as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock'`.execute(db);
    if (Number(rows[0]?.n) > 0) return sleep(50);
    await sleep(10);
  }
  throw new Error('the flush never waited for the repository lock');
}
