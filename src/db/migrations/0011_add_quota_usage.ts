import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * `quota.used_storage`: the bytes of the distinct blobs linked to the project, kept with every link and
 * unlink so a push can be checked against the limit with one row update (which also serialises concurrent
 * pushes into one project). Every project gets a row (-1: no limit) and its usage from `project_blob`.
 */
export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  await db.schema
    .alterTable('quota')
    .addColumn('used_storage', ctx.bigint, (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`
    insert into quota (project_id, hard_storage, used_storage, creation_time, update_time)
    select p.id, -1, 0, p.creation_time, p.update_time from project p
    where not exists (select 1 from quota q where q.project_id = p.id)`.execute(db);
  await sql`
    update quota set used_storage = (
      select coalesce(sum(b.size), 0) from project_blob pb
      join blob b on b.id = pb.blob_id
      where pb.project_id = quota.project_id)`.execute(db);
}
