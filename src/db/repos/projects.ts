import type { Kysely } from 'kysely';
import type { Database, ProjectRow } from '../tables.js';

export class ProjectRepo {
  constructor(private readonly db: Kysely<Database>) {}

  findByName(name: string): Promise<ProjectRow | undefined> {
    return this.db.selectFrom('project').selectAll().where('name', '=', name).executeTakeFirst();
  }

  /** Returns the project, creating it when missing; safe when two callers race. */
  async ensure(name: string, now: string): Promise<ProjectRow> {
    await this.db
      .insertInto('project')
      .values({ name, public: 0, owner_id: null, creation_time: now, update_time: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    return (await this.findByName(name))!;
  }
}
