import type { Kysely } from 'kysely';
import type { Database, UploadRow } from '../tables.js';

/** An upload row's size while a request writes to the session (UploadRepo.claim). */
export const writingSize = -1;

export class UploadRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async create(row: UploadRow): Promise<void> {
    await this.db.insertInto('upload').values(row).execute();
  }

  find(id: string): Promise<UploadRow | undefined> {
    return this.db.selectFrom('upload').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * Claims the session for one writing request across every node (size becomes `writingSize`): false
   * while another request holds it, unless that claim was last refreshed before `staleBefore` (its node
   * died mid-request).
   */
  async claim(id: string, now: string, staleBefore: string): Promise<boolean> {
    const res = await this.db
      .updateTable('upload')
      .set({ size: writingSize, update_time: now })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('size', '>=', 0), eb('update_time', '<', staleBefore)]))
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** Keeps a claim fresh while a long chunk streams in. */
  async refreshClaim(id: string, now: string): Promise<void> {
    await this.db
      .updateTable('upload')
      .set({ update_time: now })
      .where('id', '=', id)
      .where('size', '=', writingSize)
      .execute();
  }

  /** Ends a claim, recording the bytes storage holds (informational: storage's count is authoritative). */
  async release(id: string, size: number, now: string): Promise<void> {
    await this.db
      .updateTable('upload')
      .set({ size, update_time: now })
      .where('id', '=', id)
      .where('size', '=', writingSize)
      .execute();
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
