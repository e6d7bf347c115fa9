import type { Insertable, Kysely, Updateable } from 'kysely';
import { offsetOf, type ListQuery, type Page } from '../../lib/query.js';
import type { Database, ScannerRegistrationRow, ScannerRegistrationTable } from '../tables.js';
import { applyKeywords, applySorts, type FieldMap } from './list-filter.js';

/** `q` keys and sorts of the scanner list (Harbor's: the default first, then the newest). */
export const scannerFields: FieldMap = {
  name: { column: 'name', type: 'string' },
  description: { column: 'description', type: 'string' },
  url: { column: 'url', type: 'string' },
  uuid: { column: 'uuid', type: 'string' },
  is_default: { column: 'is_default', type: 'bool' },
  disabled: { column: 'disabled', type: 'bool' },
  create_time: { column: 'create_time', type: 'time', filter: false },
  update_time: { column: 'update_time', type: 'time', filter: false },
};

/** Scanner registrations and the scanner each project chose. */
export class ScannerRegistrationRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async create(row: Insertable<ScannerRegistrationTable>): Promise<ScannerRegistrationRow> {
    return this.db.insertInto('scanner_registration').values(row).returningAll().executeTakeFirstOrThrow();
  }

  find(uuid: string): Promise<ScannerRegistrationRow | undefined> {
    return this.db.selectFrom('scanner_registration').selectAll().where('uuid', '=', uuid).executeTakeFirst();
  }

  /** The registration with this name or this URL, other than `except` (a uuid). */
  findClash(name: string, url: string, except?: string): Promise<ScannerRegistrationRow | undefined> {
    let qb = this.db
      .selectFrom('scanner_registration')
      .selectAll()
      .where((w) => w.or([w('name', '=', name), w('url', '=', url)]));
    if (except) qb = qb.where('uuid', '!=', except);
    return qb.executeTakeFirst();
  }

  findDefault(): Promise<ScannerRegistrationRow | undefined> {
    return this.db
      .selectFrom('scanner_registration')
      .selectAll()
      .where('is_default', '=', 1)
      .executeTakeFirst();
  }

  async list(query: ListQuery): Promise<Page<ScannerRegistrationRow>> {
    const base = applyKeywords(this.db.selectFrom('scanner_registration'), scannerFields, query.keywords);
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const fallback = [
      { key: 'is_default', desc: true },
      { key: 'create_time', desc: true },
    ];
    const items = await applySorts(base.selectAll(), scannerFields, query.sorts, fallback, 'id')
      .offset(offsetOf(query))
      .limit(query.pageSize)
      .execute();
    return { items, total: Number(total.n) };
  }

  async update(uuid: string, values: Updateable<ScannerRegistrationTable>): Promise<void> {
    await this.db.updateTable('scanner_registration').set(values).where('uuid', '=', uuid).execute();
  }

  async delete(uuid: string): Promise<boolean> {
    const res = await this.db.deleteFrom('scanner_registration').where('uuid', '=', uuid).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /**
   * Makes an enabled registration the only default; false when no enabled one has that uuid. Run it in a
   * transaction (`store.transaction`), so there is never a moment with two defaults or none.
   */
  async markDefault(uuid: string): Promise<boolean> {
    const res = await this.db
      .updateTable('scanner_registration')
      .set({ is_default: 1 })
      .where('uuid', '=', uuid)
      .where('disabled', '=', 0)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) return false;
    await this.db
      .updateTable('scanner_registration')
      .set({ is_default: 0 })
      .where('uuid', '!=', uuid)
      .where('is_default', '=', 1)
      .execute();
    return true;
  }

  async projectScanner(projectId: number): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('project_scanner')
      .select('registration_uuid')
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    return row?.registration_uuid;
  }

  async setProjectScanner(projectId: number, uuid: string): Promise<void> {
    await this.db
      .insertInto('project_scanner')
      .values({ project_id: projectId, registration_uuid: uuid })
      .onConflict((oc) => oc.column('project_id').doUpdateSet({ registration_uuid: uuid }))
      .execute();
  }
}
