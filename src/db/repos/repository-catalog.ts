import type { Kysely } from 'kysely';
import type { ListQuery, Page } from '../../lib/query.js';
import { offsetOf } from '../../lib/query.js';
import type { Database, RepositoryRow } from '../tables.js';
import { applyKeywords, applySorts, type FieldMap } from './list-filter.js';
import { inScope, type ProjectScope } from './project-catalog.js';

export type RepositoryListRow = RepositoryRow & { artifact_count: number };

export const repositoryFields: FieldMap = {
  name: { column: 'repository.name', type: 'string' },
  project_id: { column: 'repository.project_id', type: 'int', sort: false },
  id: { column: 'repository.id', type: 'int' },
  pull_count: { column: 'repository.pull_count', type: 'int', filter: false },
  creation_time: { column: 'repository.creation_time', type: 'time' },
  update_time: { column: 'repository.update_time', type: 'time' },
};

/** The API's side of repositories: filtered pages with artifact counts, description, delete. */
export class RepositoryCatalog {
  constructor(private readonly db: Kysely<Database>) {}

  /** Repositories of one project, or of every project in `scope`. */
  async list(
    query: ListQuery,
    where: { projectId: number } | { scope: ProjectScope },
  ): Promise<Page<RepositoryListRow>> {
    let base = applyKeywords(
      this.db.selectFrom('repository').innerJoin('project', 'project.id', 'repository.project_id'),
      repositoryFields,
      query.keywords,
    );
    if ('projectId' in where) base = base.where('repository.project_id', '=', where.projectId);
    else if (where.scope !== 'all') {
      const scope = where.scope;
      base = base.where((eb) => inScope(eb, scope));
    }
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await applySorts(
      base.selectAll('repository').select((eb) =>
        eb
          .selectFrom('artifact')
          .select((e) => e.fn.countAll<number>().as('c'))
          .whereRef('artifact.repository_id', '=', 'repository.id')
          .as('artifact_count'),
      ),
      repositoryFields,
      query.sorts,
      [{ key: 'creation_time', desc: true }],
      'repository.id',
    )
      .limit(query.pageSize)
      .offset(offsetOf(query))
      .execute();
    return {
      total: Number(total.n),
      items: rows.map((r) => ({ ...r, artifact_count: Number(r.artifact_count ?? 0) })),
    };
  }

  async byName(name: string): Promise<RepositoryListRow | undefined> {
    const row = await this.db
      .selectFrom('repository')
      .selectAll()
      .select((eb) =>
        eb
          .selectFrom('artifact')
          .select((e) => e.fn.countAll<number>().as('c'))
          .whereRef('artifact.repository_id', '=', 'repository.id')
          .as('artifact_count'),
      )
      .where('name', '=', name)
      .executeTakeFirst();
    return row && { ...row, artifact_count: Number(row.artifact_count ?? 0) };
  }

  /** Full names of the repositories, by id. */
  async namesOf(ids: readonly number[]): Promise<Map<number, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('repository')
      .select(['id', 'name'])
      .where('id', 'in', [...new Set(ids)])
      .execute();
    return new Map(rows.map((r) => [r.id, r.name]));
  }

  async setDescription(id: number, description: string, now: string): Promise<void> {
    await this.db
      .updateTable('repository')
      .set({ description, update_time: now })
      .where('id', '=', id)
      .execute();
  }

  /** Deletes the repository; its artifacts, tags, references and label links go with it. */
  /**
   * Deletes the repository with its artifacts; returns the digests of the artifacts it held. Call it in
   * `store.transaction` (its statements belong together, with the jobs that follow the deletion).
   */
  async delete(id: number): Promise<string[]> {
    const digests = await this.db
      .selectFrom('artifact')
      .select('digest')
      .where('repository_id', '=', id)
      .orderBy('id')
      .execute();
    // Children listed by an index in another repository keep their parent; here every artifact goes.
    const ids = this.db.selectFrom('artifact').select('id').where('repository_id', '=', id);
    await this.db.deleteFrom('artifact_reference').where('parent_id', 'in', ids).execute();
    await this.db.deleteFrom('repository').where('id', '=', id).execute();
    return digests.map((d) => d.digest);
  }

  async countByVisibility(): Promise<{ public: number; private: number }> {
    const rows = await this.db
      .selectFrom('repository')
      .innerJoin('project', 'project.id', 'repository.project_id')
      .select(['project.public', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('project.public')
      .execute();
    const n = (p: number) => Number(rows.find((r) => Number(r.public) === p)?.n ?? 0);
    return { public: n(1), private: n(0) };
  }

  /** Digest of an index in another repository listing one of this repository's artifacts, if any. */
  async referencedFromOutside(id: number): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('artifact_reference as ar')
      .innerJoin('artifact as child', 'child.id', 'ar.child_id')
      .innerJoin('artifact as parent', 'parent.id', 'ar.parent_id')
      .select('parent.digest')
      .where('child.repository_id', '=', id)
      .where('parent.repository_id', '!=', id)
      .executeTakeFirst();
    return row?.digest;
  }
}
