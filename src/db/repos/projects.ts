import type { Kysely } from 'kysely';
import { uncached, type CachedReads } from '../read-cache.js';
import type { Database, ProjectRow } from '../tables.js';

export class ProjectRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly reads: CachedReads = uncached,
  ) {}

  findByName(name: string): Promise<ProjectRow | undefined> {
    return this.reads.get(`project:name:${name}`, () =>
      this.db.selectFrom('project').selectAll().where('name', '=', name).executeTakeFirst(),
    );
  }

  findById(id: number): Promise<ProjectRow | undefined> {
    return this.reads.get(`project:id:${id}`, () =>
      this.db.selectFrom('project').selectAll().where('id', '=', id).executeTakeFirst(),
    );
  }

  /** Creates the project unless it exists (first start creates `library`); returns the row either way. */
  async ensurePublic(name: string, now: string, ownerId: number | null): Promise<ProjectRow> {
    await this.db
      .insertInto('project')
      .values({ name, public: 1, owner_id: ownerId, creation_time: now, update_time: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    return (await this.findByName(name))!;
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
