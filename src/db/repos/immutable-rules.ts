import type { Kysely } from 'kysely';
import { uncached, type CachedReads } from '../read-cache.js';
import type { ListQuery, Page } from '../../lib/query.js';
import { offsetOf } from '../../lib/query.js';
import type { Database, ImmutableTagRuleRow } from '../tables.js';
import { applyKeywords, applySorts, type FieldMap } from './list-filter.js';

export const immutableRuleFields: FieldMap = {
  id: { column: 'immutable_tag_rule.id', type: 'int' },
  priority: { column: 'immutable_tag_rule.priority', type: 'int' },
  disabled: { column: 'immutable_tag_rule.disabled', type: 'bool' },
  creation_time: { column: 'immutable_tag_rule.creation_time', type: 'time' },
  update_time: { column: 'immutable_tag_rule.update_time', type: 'time' },
};

export interface ImmutableRuleValues {
  priority: number;
  disabled: boolean;
  action: string;
  template: string;
  /** JSON text. */
  scopeSelectors: string;
  /** JSON text. */
  tagSelectors: string;
}

/** Tag immutability rules of projects. */
export class ImmutableRuleRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly reads: CachedReads = uncached,
  ) {}

  async list(projectId: number, query: ListQuery): Promise<Page<ImmutableTagRuleRow>> {
    const base = applyKeywords(
      this.db.selectFrom('immutable_tag_rule').where('project_id', '=', projectId),
      immutableRuleFields,
      query.keywords,
    );
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const items = await applySorts(
      base.selectAll(),
      immutableRuleFields,
      query.sorts,
      [],
      'immutable_tag_rule.id',
    )
      .limit(query.pageSize)
      .offset(offsetOf(query))
      .execute();
    return { total: Number(total.n), items };
  }

  /** Every rule of the project, in id order (the order Harbor evaluates them in). */
  ofProject(projectId: number): Promise<ImmutableTagRuleRow[]> {
    return this.reads.get(`immutable:${projectId}`, () =>
      this.db
        .selectFrom('immutable_tag_rule')
        .selectAll()
        .where('project_id', '=', projectId)
        .orderBy('id')
        .execute(),
    );
  }

  byId(id: number): Promise<ImmutableTagRuleRow | undefined> {
    return this.db.selectFrom('immutable_tag_rule').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async create(projectId: number, v: ImmutableRuleValues, now: string): Promise<number> {
    const row = await this.db
      .insertInto('immutable_tag_rule')
      .values({
        project_id: projectId,
        ...columns(v),
        creation_time: now,
        update_time: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async update(id: number, v: ImmutableRuleValues, now: string): Promise<boolean> {
    const res = await this.db
      .updateTable('immutable_tag_rule')
      .set({ ...columns(v), update_time: now })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async delete(id: number): Promise<boolean> {
    const res = await this.db.deleteFrom('immutable_tag_rule').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}

function columns(v: ImmutableRuleValues) {
  return {
    priority: v.priority,
    disabled: v.disabled ? 1 : 0,
    action: v.action,
    template: v.template,
    scope_selectors: v.scopeSelectors,
    tag_selectors: v.tagSelectors,
  };
}
