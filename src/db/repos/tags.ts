import type { Kysely } from 'kysely';
import { prepared } from '../prepared.js';
import type { Database } from '../tables.js';

export class TagRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Points the tag at the artifact, creating or moving it; the unique (repository, name) index decides races. */
  async put(repositoryId: number, name: string, artifactId: number, now: string): Promise<void> {
    await upsertTag(this.db, repositoryId, name, artifactId, now);
  }

  /**
   * Creates the tag on the artifact unless the tag exists; returns the artifact the tag points to after
   * (this one, or the holder that was there first). A tag held by a concurrent transaction is waited for.
   */
  async claim(repositoryId: number, name: string, artifactId: number, now: string): Promise<number> {
    await this.db
      .insertInto('tag')
      .values({ repository_id: repositoryId, artifact_id: artifactId, name, push_time: now, pull_time: null })
      .onConflict((oc) => oc.columns(['repository_id', 'name']).doNothing())
      .execute();
    const row = await this.db
      .selectFrom('tag')
      .select('artifact_id')
      .where('repository_id', '=', repositoryId)
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    return row.artifact_id;
  }

  /** The artifact each of `names` points to in the repository (absent names are left out). */
  async holders(repositoryId: number, names: readonly string[]): Promise<Map<string, number>> {
    if (names.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('tag')
      .select(['name', 'artifact_id'])
      .where('repository_id', '=', repositoryId)
      .where('name', 'in', names)
      .execute();
    return new Map(rows.map((r) => [r.name, r.artifact_id]));
  }

  /** The artifact's tag names, oldest first. */
  async namesOf(artifactId: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('tag')
      .select('name')
      .where('artifact_id', '=', artifactId)
      .orderBy('id')
      .execute();
    return rows.map((r) => r.name);
  }

  async delete(repositoryId: number, name: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom('tag')
      .where('repository_id', '=', repositoryId)
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** Keyset page of tag names after `last`, in name order, served by the unique index. */
  async listNames(repositoryId: number, last: string | undefined, limit: number): Promise<string[]> {
    let q = this.db
      .selectFrom('tag')
      .select('name')
      .where('repository_id', '=', repositoryId)
      .orderBy('name')
      .limit(limit);
    if (last !== undefined) q = q.where('name', '>', last);
    return (await q.execute()).map((r) => r.name);
  }

  async recordPulls(times: Map<number, string>): Promise<void> {
    for (const [artifactId, time] of times) {
      await this.db
        .updateTable('tag')
        .set({ pull_time: time })
        .where('artifact_id', '=', artifactId)
        .execute();
    }
  }
}

/** A manifest PUT's tag statement, built and compiled once (db/prepared.ts). */
const upsertTag = prepared((db, repositoryId: number, name: string, artifactId: number, now: string) =>
  db
    .insertInto('tag')
    .values({ repository_id: repositoryId, artifact_id: artifactId, name, push_time: now, pull_time: null })
    .onConflict((oc) =>
      oc.columns(['repository_id', 'name']).doUpdateSet({ artifact_id: artifactId, push_time: now }),
    ),
);
