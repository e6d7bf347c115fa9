import type { Insertable, Kysely, Updateable } from 'kysely';
import { offsetOf, type ListQuery, type Page } from '../../lib/query.js';
import type { Database, RegistryRow, RegistryTable } from '../tables.js';
import { applyKeywords, applySorts, type FieldMap } from './list-filter.js';

/** `q` keys and sorts of the registry list (ordered by id unless sorted). */
export const registryFields: FieldMap = {
  name: { column: 'name', type: 'string' },
  id: { column: 'id', type: 'int', filter: false },
  creation_time: { column: 'creation_time', type: 'time', filter: false },
  update_time: { column: 'update_time', type: 'time', filter: false },
};

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

  async list(query: ListQuery): Promise<Page<RegistryRow>> {
    const base = applyKeywords(this.db.selectFrom('registry'), registryFields, query.keywords);
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const items = await applySorts(base.selectAll(), registryFields, query.sorts, [], 'id')
      .offset(offsetOf(query))
      .limit(query.pageSize)
      .execute();
    return { items, total: Number(total.n) };
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

  /** Names of the proxy-cache projects pulling through this endpoint. */
  async proxyProjectsUsing(id: number): Promise<string[]> {
    const rows = await this.db.selectFrom('project').select('name').where('registry_id', '=', id).execute();
    return rows.map((r) => r.name);
  }
}
