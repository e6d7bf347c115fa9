import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import { prepared } from '../prepared.js';
import { uncached, type CachedReads } from '../read-cache.js';
import type { ListQuery, Page } from '../../lib/query.js';
import { offsetOf } from '../../lib/query.js';
import type { Database, ProjectRow, QuotaTable } from '../tables.js';
import type { Selectable } from 'kysely';

export type QuotaRow = Selectable<QuotaTable>;
import { applyKeywords, applySorts, type FieldMap } from './list-filter.js';

/** Which projects a caller may see: all, or public ones plus the listed ids. */
export type ProjectScope = 'all' | { ids: readonly number[]; publicToo: boolean };

/** The condition "project is in scope" on a query that joins `project`. */
export function inScope<TB extends keyof Database>(
  eb: ExpressionBuilder<Database, TB | 'project'>,
  scope: Exclude<ProjectScope, 'all'>,
): Expression<SqlBool> {
  const ids = [...scope.ids];
  return eb.or([
    ...(scope.publicToo ? [eb(sql.ref('project.public'), '=', 1)] : []),
    ...(ids.length > 0 ? [eb(sql.ref('project.id'), 'in', ids)] : []),
    eb.lit(false),
  ]);
}

export type ProjectListRow = ProjectRow & { repo_count: number };

export const projectFields: FieldMap = {
  name: { column: 'project.name', type: 'string' },
  public: { column: 'project.public', type: 'bool', sort: false },
  project_id: { column: 'project.id', type: 'int' },
  owner_id: { column: 'project.owner_id', type: 'int', sort: false },
  creation_time: { column: 'project.creation_time', type: 'time' },
  update_time: { column: 'project.update_time', type: 'time' },
};

/** The API's side of projects: filtered pages, create/update/delete, metadata, quota limits, counts. */
export class ProjectCatalog {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly reads: CachedReads = uncached,
  ) {}

  async list(query: ListQuery, scope: ProjectScope): Promise<Page<ProjectListRow>> {
    let base = applyKeywords(this.db.selectFrom('project'), projectFields, query.keywords);
    if (scope !== 'all') base = base.where((eb) => inScope(eb, scope));
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await applySorts(
      base.selectAll('project').select((eb) =>
        eb
          .selectFrom('repository')
          .select((e) => e.fn.countAll<number>().as('c'))
          .whereRef('repository.project_id', '=', 'project.id')
          .as('repo_count'),
      ),
      projectFields,
      query.sorts,
      [{ key: 'name', desc: false }],
      'project.id',
    )
      .limit(query.pageSize)
      .offset(offsetOf(query))
      .execute();
    return {
      total: Number(total.n),
      items: rows.map((r) => ({ ...r, repo_count: Number(r.repo_count ?? 0) })),
    };
  }

  byId(id: number): Promise<ProjectRow | undefined> {
    return this.db.selectFrom('project').selectAll().where('id', '=', id).executeTakeFirst();
  }

  byName(name: string): Promise<ProjectRow | undefined> {
    return this.reads.get(`project:name:${name}`, () =>
      this.db.selectFrom('project').selectAll().where('name', '=', name).executeTakeFirst(),
    );
  }

  /** Inserts the project; undefined when the name is taken. */
  async create(values: {
    name: string;
    public: boolean;
    ownerId: number | null;
    now: string;
    registryId?: number | null;
  }): Promise<ProjectRow | undefined> {
    return this.db
      .insertInto('project')
      .values({
        name: values.name,
        public: values.public ? 1 : 0,
        owner_id: values.ownerId,
        creation_time: values.now,
        update_time: values.now,
        registry_id: values.registryId ?? null,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .returningAll()
      .executeTakeFirst();
  }

  async setPublic(id: number, isPublic: boolean, now: string): Promise<void> {
    await this.db
      .updateTable('project')
      .set({ public: isPublic ? 1 : 0, update_time: now })
      .where('id', '=', id)
      .execute();
  }

  async touch(id: number, now: string): Promise<void> {
    await this.db.updateTable('project').set({ update_time: now }).where('id', '=', id).execute();
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('label').where('project_id', '=', id).where('scope', '=', 'p').execute();
    await this.db.deleteFrom('cve_allowlist').where('project_id', '=', id).execute();
    await this.db.deleteFrom('project').where('id', '=', id).execute();
  }

  async repositoryCount(projectId: number): Promise<number> {
    const row = await this.db
      .selectFrom('repository')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('project_id', '=', projectId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Metadata of each project, as Harbor's string key/values. */
  async metadata(projectIds: readonly number[]): Promise<Map<number, Record<string, string>>> {
    const out = new Map<number, Record<string, string>>();
    if (projectIds.length === 0) return out;
    if (projectIds.length === 1) {
      // One project's metadata is read on every push (scan on push): kept in memory, a project at a time.
      const id = projectIds[0]!;
      const one = await this.reads.get(`project:metadata:${id}`, async () => {
        const rows = await this.db
          .selectFrom('project_metadata')
          .select(['name', 'value'])
          .where('project_id', '=', id)
          .execute();
        return Object.fromEntries(rows.map((r) => [r.name, r.value])) as Record<string, string>;
      });
      if (Object.keys(one).length > 0) out.set(id, one);
      return out;
    }
    const rows = await this.db
      .selectFrom('project_metadata')
      .select(['project_id', 'name', 'value'])
      .where('project_id', 'in', [...projectIds])
      .execute();
    for (const r of rows)
      (out.get(r.project_id) ?? out.set(r.project_id, {}).get(r.project_id)!)[r.name] = r.value;
    return out;
  }

  /** Names of the projects whose metadata `name` is `value` (the pull policy's projects). */
  async namesWithMetadata(name: string, value: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('project_metadata')
      .innerJoin('project', 'project.id', 'project_metadata.project_id')
      .select('project.name')
      .where('project_metadata.name', '=', name)
      .where('project_metadata.value', '=', value)
      .execute();
    return rows.map((r) => r.name);
  }

  async putMetadata(projectId: number, values: Record<string, string>, now: string): Promise<void> {
    for (const [name, value] of Object.entries(values)) {
      await this.db
        .insertInto('project_metadata')
        .values({ project_id: projectId, name, value, creation_time: now, update_time: now })
        .onConflict((oc) => oc.columns(['project_id', 'name']).doUpdateSet({ value, update_time: now }))
        .execute();
    }
  }

  async deleteMetadata(projectId: number, name: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom('project_metadata')
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async setQuota(projectId: number, hardStorage: number, now: string): Promise<void> {
    await this.db
      .insertInto('quota')
      .values({ project_id: projectId, hard_storage: hardStorage, creation_time: now, update_time: now })
      .onConflict((oc) =>
        oc.column('project_id').doUpdateSet({ hard_storage: hardStorage, update_time: now }),
      )
      .execute();
  }

  async quotaRows(projectIds: readonly number[]): Promise<Map<number, QuotaRow>> {
    if (projectIds.length === 0) return new Map();
    const { rows } = await quotasOf(this.db, projectIds);
    return new Map(
      rows.map((r) => [
        r.project_id,
        { ...r, hard_storage: Number(r.hard_storage), used_storage: Number(r.used_storage) },
      ]),
    );
  }

  async countByVisibility(): Promise<{ public: number; private: number }> {
    const rows = await this.db
      .selectFrom('project')
      .select(['public', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('public')
      .execute();
    const n = (p: number) => Number(rows.find((r) => Number(r.public) === p)?.n ?? 0);
    return { public: n(1), private: n(0) };
  }

  async totalStorage(): Promise<number> {
    const row = await this.db
      .selectFrom('blob')
      .select(sql<string | number | null>`sum(size)`.as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n ?? 0);
  }
}

/** Every push reads its project's quota first: built and compiled once (db/prepared.ts). */
const quotasOf = prepared((db, projectIds: readonly number[]) =>
  db.selectFrom('quota').selectAll().where('project_id', 'in', projectIds),
);
