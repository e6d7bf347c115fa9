import type { Kysely } from 'kysely';
import type { ListQuery, Page } from '../../lib/query.js';
import { offsetOf } from '../../lib/query.js';
import type { Database, LabelRow } from '../tables.js';
import { applyKeywords, applySorts, type FieldMap } from './list-filter.js';

export const labelFields: FieldMap = {
  name: { column: 'label.name', type: 'string' },
  scope: { column: 'label.scope', type: 'string', sort: false },
  project_id: { column: 'label.project_id', type: 'int', sort: false },
  id: { column: 'label.id', type: 'int' },
  creation_time: { column: 'label.creation_time', type: 'time' },
  update_time: { column: 'label.update_time', type: 'time' },
};

export interface LabelValues {
  name: string;
  description: string;
  color: string;
  scope: 'g' | 'p';
  projectId: number;
}

/** Labels (global: project_id 0) and their attachment to artifacts. */
export class LabelRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async list(query: ListQuery): Promise<Page<LabelRow>> {
    const base = applyKeywords(this.db.selectFrom('label'), labelFields, query.keywords);
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const items = await applySorts(base.selectAll(), labelFields, query.sorts, [], 'label.id')
      .limit(query.pageSize)
      .offset(offsetOf(query))
      .execute();
    return { total: Number(total.n), items };
  }

  byId(id: number): Promise<LabelRow | undefined> {
    return this.db.selectFrom('label').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Inserts the label; undefined when the name is taken in its scope. */
  create(v: LabelValues, now: string): Promise<LabelRow | undefined> {
    return this.db
      .insertInto('label')
      .values({
        name: v.name,
        description: v.description,
        color: v.color,
        scope: v.scope,
        project_id: v.projectId,
        creation_time: now,
        update_time: now,
      })
      .onConflict((oc) => oc.columns(['name', 'scope', 'project_id']).doNothing())
      .returningAll()
      .executeTakeFirst();
  }

  async nameTaken(v: Pick<LabelValues, 'name' | 'scope' | 'projectId'>, exceptId: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('label')
      .select('id')
      .where('name', '=', v.name)
      .where('scope', '=', v.scope)
      .where('project_id', '=', v.projectId)
      .where('id', '!=', exceptId)
      .executeTakeFirst();
    return row !== undefined;
  }

  async update(
    id: number,
    v: Pick<LabelValues, 'name' | 'description' | 'color'>,
    now: string,
  ): Promise<void> {
    await this.db
      .updateTable('label')
      .set({ name: v.name, description: v.description, color: v.color, update_time: now })
      .where('id', '=', id)
      .execute();
  }

  async delete(id: number): Promise<boolean> {
    const res = await this.db.deleteFrom('label').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** False when the artifact already carries the label. */
  async attach(artifactId: number, labelId: number, now: string): Promise<boolean> {
    const res = await this.db
      .insertInto('artifact_label')
      .values({ artifact_id: artifactId, label_id: labelId, creation_time: now })
      .onConflict((oc) => oc.columns(['artifact_id', 'label_id']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async detach(artifactId: number, labelId: number): Promise<boolean> {
    const res = await this.db
      .deleteFrom('artifact_label')
      .where('artifact_id', '=', artifactId)
      .where('label_id', '=', labelId)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** Labels of each artifact, in one query. */
  async ofArtifacts(artifactIds: readonly number[]): Promise<Map<number, LabelRow[]>> {
    const out = new Map<number, LabelRow[]>();
    if (artifactIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('artifact_label')
      .innerJoin('label', 'label.id', 'artifact_label.label_id')
      .selectAll('label')
      .select('artifact_label.artifact_id')
      .where('artifact_label.artifact_id', 'in', [...artifactIds])
      .orderBy('label.id')
      .execute();
    for (const { artifact_id, ...label } of rows) {
      const list = out.get(artifact_id) ?? [];
      list.push(label);
      out.set(artifact_id, list);
    }
    return out;
  }
}
