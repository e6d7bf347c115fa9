import type { Kysely } from 'kysely';
import type { Database } from '../tables.js';

/** Stored runtime settings: name → JSON text. */
export class SettingRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async all(): Promise<Map<string, string>> {
    const rows = await this.db.selectFrom('setting').select(['name', 'value']).execute();
    return new Map(rows.map((r) => [r.name, r.value]));
  }

  async put(values: Record<string, string>, now: string): Promise<void> {
    for (const [name, value] of Object.entries(values)) {
      await this.db
        .insertInto('setting')
        .values({ name, value, update_time: now })
        .onConflict((oc) => oc.column('name').doUpdateSet({ value, update_time: now }))
        .execute();
    }
  }
}
