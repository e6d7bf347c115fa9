import type { Insertable, Kysely, Updateable } from 'kysely';
import type { Database, RetentionPolicyRow, RetentionPolicyTable } from '../tables.js';
import { notIndexChild } from './artifact-catalog.js';
import { ExecutionRepo } from './executions.js';

export const retentionVendor = 'RETENTION';

/** An artifact as retention sees it: its tags, labels, and the latest push and pull of it or its tags. */
export interface CandidateRow {
  id: number;
  digest: string;
  mediaType: string;
  tags: string[];
  labels: string[];
  /** ISO times; pull is null when never pulled. */
  pushTime: string;
  pullTime: string | null;
  creationTime: string;
}

/** Retention policies, their executions, per-task counts, and candidates read one page at a time. */
export class RetentionRepo {
  readonly executions: ExecutionRepo;

  constructor(private readonly db: Kysely<Database>) {
    this.executions = new ExecutionRepo(db, retentionVendor);
  }

  createPolicy(row: Insertable<RetentionPolicyTable>): Promise<RetentionPolicyRow> {
    return this.db.insertInto('retention_policy').values(row).returningAll().executeTakeFirstOrThrow();
  }

  findPolicy(id: number): Promise<RetentionPolicyRow | undefined> {
    return this.db.selectFrom('retention_policy').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findPolicyOfProject(projectId: number): Promise<RetentionPolicyRow | undefined> {
    return this.db
      .selectFrom('retention_policy')
      .selectAll()
      .where('project_id', '=', projectId)
      .executeTakeFirst();
  }

  async updatePolicy(id: number, values: Updateable<RetentionPolicyTable>): Promise<void> {
    await this.db.updateTable('retention_policy').set(values).where('id', '=', id).execute();
  }

  async deletePolicy(id: number): Promise<void> {
    await this.executions.deleteByVendorId(id);
    await this.db.deleteFrom('retention_policy').where('id', '=', id).execute();
  }

  /** A project's repositories after `afterId`, by id. */
  repositoriesPage(projectId: number, afterId: number, limit: number) {
    return this.db
      .selectFrom('repository')
      .select(['id', 'name'])
      .where('project_id', '=', projectId)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /**
   * The repository's top-level artifacts (no index children, no accessories: as Harbor lists them) after
   * `afterId`, by id. Keyset paging, so deletes between pages skip nothing.
   */
  async candidatesPage(repositoryId: number, afterId: number, limit: number): Promise<CandidateRow[]> {
    const rows = await this.db
      .selectFrom('artifact')
      .select(['id', 'digest', 'media_type', 'push_time', 'pull_time'])
      .where('repository_id', '=', repositoryId)
      .where('id', '>', afterId)
      .where('subject_digest', 'is', null)
      .where(notIndexChild)
      .orderBy('id')
      .limit(limit)
      .execute();
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [tags, labels] = await Promise.all([
      this.db
        .selectFrom('tag')
        .select(['artifact_id', 'name', 'push_time', 'pull_time'])
        .where('artifact_id', 'in', ids)
        .orderBy('name')
        .execute(),
      this.db
        .selectFrom('artifact_label')
        .innerJoin('label', 'label.id', 'artifact_label.label_id')
        .select(['artifact_label.artifact_id', 'label.name'])
        .where('artifact_label.artifact_id', 'in', ids)
        .orderBy('label.name')
        .execute(),
    ]);
    const out = new Map<number, CandidateRow>(
      rows.map((r) => [
        r.id,
        {
          id: r.id,
          digest: r.digest,
          mediaType: r.media_type,
          tags: [],
          labels: [],
          pushTime: r.push_time,
          pullTime: r.pull_time,
          creationTime: r.push_time,
        },
      ]),
    );
    const later = (a: string | null, b: string | null) => (a === null || (b !== null && b > a) ? b : a);
    for (const t of tags) {
      const c = out.get(t.artifact_id)!;
      c.tags.push(t.name);
      c.pushTime = later(c.pushTime, t.push_time)!;
      c.pullTime = later(c.pullTime, t.pull_time);
    }
    for (const l of labels) out.get(l.artifact_id)!.labels.push(l.name);
    return [...out.values()];
  }

  async recordTask(jobId: number, total: number, retained: number): Promise<void> {
    await this.db
      .insertInto('retention_task')
      .values({ job_id: jobId, total, retained })
      .onConflict((oc) => oc.column('job_id').doUpdateSet({ total, retained }))
      .execute();
  }

  async taskCounts(jobIds: number[]): Promise<Map<number, { total: number; retained: number }>> {
    if (jobIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('retention_task')
      .selectAll()
      .where('job_id', 'in', jobIds)
      .execute();
    return new Map(rows.map((r) => [r.job_id, { total: r.total, retained: r.retained }]));
  }
}
