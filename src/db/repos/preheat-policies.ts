import type { Insertable, Kysely, Updateable } from 'kysely';
import { offsetOf, type ListQuery, type Page } from '../../lib/query.js';
import { uncached, type CachedReads } from '../read-cache.js';
import type { Database, P2pPreheatPolicyRow, P2pPreheatPolicyTable } from '../tables.js';
import { applyKeywords, applySorts, type FieldMap } from './list-filter.js';

/** `q` keys and sorts of a project's preheat policy list (Harbor's default order: update_time, then id desc). */
export const preheatPolicyFields: FieldMap = {
  id: { column: 'id', type: 'int' },
  name: { column: 'name', type: 'string' },
  description: { column: 'description', type: 'string' },
  provider_id: { column: 'provider_id', type: 'int' },
  enabled: { column: 'enabled', type: 'bool' },
  creation_time: { column: 'creation_time', type: 'time' },
  update_time: { column: 'update_time', type: 'time' },
};

/** `q` keys and sorts of a preheat policy's executions. */
export const preheatExecutionFields: FieldMap = {
  id: { type: 'int', sort: false },
  trigger: { type: 'string', sort: false },
};

/** `q` keys of an execution's tasks: Harbor's task status words. */
export const preheatTaskFields: FieldMap = {
  status: { type: 'string', sort: false },
};

/** Per-project P2P preheat policies. */
export class PreheatPolicyRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly reads: CachedReads = uncached,
  ) {}

  create(row: Insertable<P2pPreheatPolicyTable>): Promise<P2pPreheatPolicyRow> {
    return this.db.insertInto('p2p_preheat_policy').values(row).returningAll().executeTakeFirstOrThrow();
  }

  byId(id: number): Promise<P2pPreheatPolicyRow | undefined> {
    return this.db.selectFrom('p2p_preheat_policy').selectAll().where('id', '=', id).executeTakeFirst();
  }

  byName(projectId: number, name: string): Promise<P2pPreheatPolicyRow | undefined> {
    return this.db
      .selectFrom('p2p_preheat_policy')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
  }

  async list(projectId: number, query: ListQuery): Promise<Page<P2pPreheatPolicyRow>> {
    const base = applyKeywords(
      this.db.selectFrom('p2p_preheat_policy').where('project_id', '=', projectId),
      preheatPolicyFields,
      query.keywords,
    );
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const sorted =
      query.sorts.length > 0
        ? applySorts(base.selectAll(), preheatPolicyFields, query.sorts, [], 'id')
        : base.selectAll().orderBy('update_time').orderBy('id', 'desc');
    const items = await sorted.offset(offsetOf(query)).limit(query.pageSize).execute();
    return { items, total: Number(total.n) };
  }

  /** The enabled event-based policies of a project, by the project's name (read on every push, cached). */
  eventBased(projectName: string): Promise<P2pPreheatPolicyRow[]> {
    return this.reads.get(`preheat:event-based:${projectName}`, () =>
      this.db
        .selectFrom('p2p_preheat_policy as p')
        .innerJoin('project', 'project.id', 'p.project_id')
        .selectAll('p')
        .where('project.name', '=', projectName)
        .where('p.enabled', '=', 1)
        .where('p.trigger', 'like', '%"event_based"%')
        .orderBy('p.id')
        .execute(),
    );
  }

  /** Names of the policies that use a provider instance. */
  async namesUsing(providerId: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('p2p_preheat_policy')
      .select('name')
      .where('provider_id', '=', providerId)
      .execute();
    return rows.map((r) => r.name);
  }

  async update(id: number, values: Updateable<P2pPreheatPolicyTable>): Promise<void> {
    await this.db.updateTable('p2p_preheat_policy').set(values).where('id', '=', id).execute();
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('p2p_preheat_policy').where('id', '=', id).execute();
  }
}
