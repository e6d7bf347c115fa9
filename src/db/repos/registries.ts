import type { Insertable, Kysely, Updateable } from 'kysely';
import type { Database, RegistryRow, RegistryTable } from '../tables.js';

/** Registry endpoints (replication peers). */
export class RegistryRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async create(row: Insertable<RegistryTable>): Promise<RegistryRow> {
    return this.db.insertInto('registry').values(row).returningAll().executeTakeFirstOrThrow();
  }

  find(id: number): Promise<RegistryRow | undefined> {
    return this.db.selectFrom('registry').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByName(name: string): Promise<RegistryRow | undefined> {
    return this.db.selectFrom('registry').selectAll().where('name', '=', name).executeTakeFirst();
  }

  /** Page of registries ordered by id, optionally by exact name or name substring. */
  async list(opts: {
    name?: string;
    nameLike?: string;
    offset: number;
    limit: number;
  }): Promise<{ rows: RegistryRow[]; total: number }> {
    let q = this.db.selectFrom('registry');
    if (opts.name !== undefined) q = q.where('name', '=', opts.name);
    if (opts.nameLike !== undefined) q = q.where('name', 'like', `%${opts.nameLike.replace(/[%_\\]/g, '')}%`);
    const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await q.selectAll().orderBy('id').offset(opts.offset).limit(opts.limit).execute();
    return { rows, total: Number(total.n) };
  }

  async update(id: number, values: Updateable<RegistryTable>): Promise<void> {
    await this.db.updateTable('registry').set(values).where('id', '=', id).execute();
  }

  async delete(id: number): Promise<boolean> {
    const res = await this.db.deleteFrom('registry').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** Names of the policies that use the registry as source or destination. */
  async policiesUsing(id: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('replication_policy')
      .select('name')
      .where((w) => w.or([w('src_registry_id', '=', id), w('dest_registry_id', '=', id)]))
      .orderBy('name')
      .execute();
    return rows.map((r) => r.name);
  }
}
