import type { Kysely } from 'kysely';
import type { Database, UploadRow } from '../tables.js';

export class UploadRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async create(row: UploadRow): Promise<void> {
    await this.db.insertInto('upload').values(row).execute();
  }

  find(id: string): Promise<UploadRow | undefined> {
    return this.db.selectFrom('upload').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Records progress (informational: storage holds the authoritative byte count). */
  async setSize(id: string, size: number, now: string): Promise<void> {
    await this.db.updateTable('upload').set({ size, update_time: now }).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<boolean> {
    const res = await this.db.deleteFrom('upload').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** Which of `ids` have a session row. */
  async existing(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.selectFrom('upload').select('id').where('id', 'in', ids).execute();
    return new Set(rows.map((r) => r.id));
  }

  /** Sessions last touched before `time`, oldest first, at most `limit`. */
  listOlderThan(time: string, limit: number): Promise<UploadRow[]> {
    return this.db
      .selectFrom('upload')
      .selectAll()
      .where('update_time', '<', time)
      .orderBy('update_time')
      .limit(limit)
      .execute();
  }
}
