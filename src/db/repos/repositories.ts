import type { Kysely } from 'kysely';
import { prepared } from '../prepared.js';
import type { Database, RepositoryRow } from '../tables.js';

export class RepositoryRepo {
  constructor(private readonly db: Kysely<Database>) {}

  findByName(name: string): Promise<RepositoryRow | undefined> {
    return this.db.selectFrom('repository').selectAll().where('name', '=', name).executeTakeFirst();
  }

  /**
   * Marks the repository updated `now` (a push into it), creating it when missing; returns the row. An
   * existing repository costs one statement, and no id: PostgreSQL takes a sequence value for every
   * `insert … on conflict`. The row stays locked until the transaction ends, as the push's quota row is.
   */
  async ensure(projectId: number, name: string, now: string): Promise<RepositoryRow> {
    const [touched] = (await touchRepository(this.db, name, now)).rows;
    if (touched) return touched;
    return this.db
      .insertInto('repository')
      .values({ project_id: projectId, name, description: '', creation_time: now, update_time: now })
      .onConflict((oc) => oc.column('name').doUpdateSet({ update_time: now }))
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Keyset page of repository names after `last`, in name order; uses the unique index on name. */
  async listNames(last: string | undefined, limit: number): Promise<string[]> {
    let q = this.db.selectFrom('repository').select('name').orderBy('name').limit(limit);
    if (last !== undefined) q = q.where('name', '>', last);
    return (await q.execute()).map((r) => r.name);
  }

  /** Like listNames, limited to public projects and the given project ids. */
  async listVisibleNames(
    last: string | undefined,
    limit: number,
    projectIds: readonly number[],
  ): Promise<string[]> {
    let q = this.db
      .selectFrom('repository as r')
      .innerJoin('project as p', 'p.id', 'r.project_id')
      .select('r.name')
      .where((eb) =>
        eb.or([eb('p.public', '=', 1), ...(projectIds.length > 0 ? [eb('p.id', 'in', projectIds)] : [])]),
      )
      .orderBy('r.name')
      .limit(limit);
    if (last !== undefined) q = q.where('r.name', '>', last);
    return (await q.execute()).map((r) => r.name);
  }

  async addPulls(counts: Map<number, number>): Promise<void> {
    for (const [id, n] of counts) {
      await this.db
        .updateTable('repository')
        .set((eb) => ({ pull_count: eb('pull_count', '+', n) }))
        .where('id', '=', id)
        .execute();
    }
  }
}

/** A push's repository statement, built and compiled once (db/prepared.ts). */
const touchRepository = prepared((db, name: string, now: string) =>
  db.updateTable('repository').set({ update_time: now }).where('name', '=', name).returningAll(),
);
