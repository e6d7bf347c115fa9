import type { Kysely } from 'kysely';
import type { Database } from '../tables.js';

export class TagRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Points the tag at the artifact, creating or moving it; the unique (repository, name) index decides races. */
  async put(repositoryId: number, name: string, artifactId: number, now: string): Promise<void> {
    await this.db
      .insertInto('tag')
      .values({ repository_id: repositoryId, artifact_id: artifactId, name, push_time: now, pull_time: null })
      .onConflict((oc) =>
        oc.columns(['repository_id', 'name']).doUpdateSet({ artifact_id: artifactId, push_time: now }),
      )
      .execute();
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
