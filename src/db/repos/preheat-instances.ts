import type { Insertable, Kysely, Updateable } from 'kysely';
import { offsetOf, type ListQuery, type Page } from '../../lib/query.js';
import type { Database, P2pPreheatInstanceRow, P2pPreheatInstanceTable } from '../tables.js';
import { applyKeywords, applySorts, type FieldMap } from './list-filter.js';

/** `q` keys and sorts of the P2P provider instance list. */
export const preheatInstanceFields: FieldMap = {
  id: { column: 'id', type: 'int' },
  name: { column: 'name', type: 'string' },
  description: { column: 'description', type: 'string' },
  vendor: { column: 'vendor', type: 'string' },
  endpoint: { column: 'endpoint', type: 'string' },
  enabled: { column: 'enabled', type: 'bool' },
  default: { column: 'is_default', type: 'bool' },
  setup_timestamp: { column: 'setup_timestamp', type: 'int', filter: false },
};

/** P2P preheat provider instances. */
export class PreheatInstanceRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async create(row: Insertable<P2pPreheatInstanceTable>): Promise<P2pPreheatInstanceRow> {
    return this.db.insertInto('p2p_preheat_instance').values(row).returningAll().executeTakeFirstOrThrow();
  }

  byName(name: string): Promise<P2pPreheatInstanceRow | undefined> {
    return this.db.selectFrom('p2p_preheat_instance').selectAll().where('name', '=', name).executeTakeFirst();
  }

  byId(id: number): Promise<P2pPreheatInstanceRow | undefined> {
    return this.db.selectFrom('p2p_preheat_instance').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The instance with this name or this endpoint, other than `except` (an id). */
  findClash(name: string, endpoint: string, except?: number): Promise<P2pPreheatInstanceRow | undefined> {
    let qb = this.db
      .selectFrom('p2p_preheat_instance')
      .selectAll()
      .where((w) => w.or([w('name', '=', name), w('endpoint', '=', endpoint)]));
    if (except !== undefined) qb = qb.where('id', '!=', except);
    return qb.executeTakeFirst();
  }

  async list(query: ListQuery): Promise<Page<P2pPreheatInstanceRow>> {
    const base = applyKeywords(
      this.db.selectFrom('p2p_preheat_instance'),
      preheatInstanceFields,
      query.keywords,
    );
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const items = await applySorts(base.selectAll(), preheatInstanceFields, query.sorts, [], 'id')
      .offset(offsetOf(query))
      .limit(query.pageSize)
      .execute();
    return { items, total: Number(total.n) };
  }

  /** Every instance, in id order (the project-level provider list is not paged). */
  all(): Promise<P2pPreheatInstanceRow[]> {
    return this.db.selectFrom('p2p_preheat_instance').selectAll().orderBy('id').execute();
  }

  async update(id: number, values: Updateable<P2pPreheatInstanceTable>): Promise<void> {
    await this.db.updateTable('p2p_preheat_instance').set(values).where('id', '=', id).execute();
  }

  /** Clears the default mark from every instance but `id` (run in the transaction that sets it). */
  async clearDefaultExcept(id: number): Promise<void> {
    await this.db
      .updateTable('p2p_preheat_instance')
      .set({ is_default: 0 })
      .where('id', '!=', id)
      .where('is_default', '=', 1)
      .execute();
  }

  async delete(id: number): Promise<boolean> {
    const res = await this.db.deleteFrom('p2p_preheat_instance').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}
