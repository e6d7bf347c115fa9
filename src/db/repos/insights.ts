import { sql, type Kysely } from 'kysely';
import type { Database } from '../tables.js';

/** Which projects a read covers: every one, or these ids. */
export type InsightScope = 'all' | readonly number[];

export interface RepositoryDayCounts {
  day: string;
  projectId: number;
  repository: string;
  pushes: number;
  pulls: number;
  deletes: number;
  pushBytes: number;
  pullBytes: number;
}

export interface UserDayCounts {
  day: string;
  projectId: number;
  username: string;
  pushes: number;
  pulls: number;
}

export interface Severities {
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
}

/** A per-project value on the days it was recorded (storage, vulnerabilities): carried forward by readers. */
export interface ProjectSnapshot<V> {
  day: string;
  projectId: number;
  value: V;
}

/** Snapshot rows (aliased `s`) on or after `from`, or each project's last one before it (its value on `from`). */
function fromOrLatestBefore(table: 'insight_storage_day' | 'insight_vulnerability_day', from: string) {
  return sql<boolean>`(s.day >= ${from} or s.day = (select max(b.day) from ${sql.table(table)} b
    where b.project_id = s.project_id and b.day < ${from}))`;
}

/** Rows per multi-row insert: 8 bound values a row stays far below either dialect's parameter limit. */
const chunk = 200;

/**
 * Daily insight aggregates. Writes add to counters (`on conflict do update set n = n + excluded.n`) or
 * overwrite a snapshot, never read-modify-write, so batches from several nodes land in any order. Sums
 * come back from PostgreSQL as numeric strings, hence the `Number()`s.
 */
export class InsightRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async addRepositoryCounts(rows: readonly RepositoryDayCounts[]): Promise<void> {
    for (let i = 0; i < rows.length; i += chunk) {
      await this.db
        .insertInto('insight_repository_day')
        .values(
          rows.slice(i, i + chunk).map((r) => ({
            day: r.day,
            project_id: r.projectId,
            repository: r.repository,
            pushes: r.pushes,
            pulls: r.pulls,
            deletes: r.deletes,
            push_bytes: r.pushBytes,
            pull_bytes: r.pullBytes,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['day', 'project_id', 'repository']).doUpdateSet((eb) => ({
            pushes: eb('insight_repository_day.pushes', '+', eb.ref('excluded.pushes')),
            pulls: eb('insight_repository_day.pulls', '+', eb.ref('excluded.pulls')),
            deletes: eb('insight_repository_day.deletes', '+', eb.ref('excluded.deletes')),
            push_bytes: eb('insight_repository_day.push_bytes', '+', eb.ref('excluded.push_bytes')),
            pull_bytes: eb('insight_repository_day.pull_bytes', '+', eb.ref('excluded.pull_bytes')),
          })),
        )
        .execute();
    }
  }

  async addUserCounts(rows: readonly UserDayCounts[]): Promise<void> {
    for (let i = 0; i < rows.length; i += chunk) {
      await this.db
        .insertInto('insight_user_day')
        .values(
          rows.slice(i, i + chunk).map((r) => ({
            day: r.day,
            project_id: r.projectId,
            username: r.username,
            pushes: r.pushes,
            pulls: r.pulls,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['day', 'project_id', 'username']).doUpdateSet((eb) => ({
            pushes: eb('insight_user_day.pushes', '+', eb.ref('excluded.pushes')),
            pulls: eb('insight_user_day.pulls', '+', eb.ref('excluded.pulls')),
          })),
        )
        .execute();
    }
  }

  /** Copies the projects' current quota usage (all projects without `projectIds`) into `day`'s snapshot. */
  async snapshotStorage(day: string, projectIds?: readonly number[]): Promise<void> {
    if (projectIds?.length === 0) return;
    await this.db
      .insertInto('insight_storage_day')
      .columns(['day', 'project_id', 'used_bytes'])
      .expression((eb) =>
        eb
          .selectFrom('quota')
          .select([sql.lit(day).as('day'), 'project_id', 'used_storage'])
          // A where clause is needed anyway: SQLite cannot tell `on conflict` from a join after a bare select.
          .where(projectIds ? eb('project_id', 'in', projectIds) : sql<boolean>`1 = 1`),
      )
      .onConflict((oc) =>
        oc
          .columns(['day', 'project_id'])
          .doUpdateSet((eb) => ({ used_bytes: eb.ref('excluded.used_bytes') })),
      )
      .execute();
  }

  async setVulnerabilities(day: string, projectId: number, counts: Severities): Promise<void> {
    await this.db
      .insertInto('insight_vulnerability_day')
      .values({ day, project_id: projectId, ...counts })
      .onConflict((oc) => oc.columns(['day', 'project_id']).doUpdateSet(counts))
      .execute();
  }

  /** Project ids by name, for the names a batch of events carries. */
  async projectIds(names: readonly string[]): Promise<Map<string, number>> {
    if (names.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('project')
      .select(['id', 'name'])
      .where('name', 'in', names)
      .execute();
    return new Map(rows.map((r) => [r.name, r.id]));
  }

  /** Per day in [from, to]: summed counters, and how many distinct users pushed or pulled. */
  async daily(scope: InsightScope, from: string, to: string) {
    if (scope !== 'all' && scope.length === 0) return [];
    const [counts, users] = await Promise.all([
      this.db
        .selectFrom('insight_repository_day')
        .select((eb) => [
          'day',
          eb.fn.sum<number>('pushes').as('pushes'),
          eb.fn.sum<number>('pulls').as('pulls'),
          eb.fn.sum<number>('deletes').as('deletes'),
          eb.fn.sum<number>('push_bytes').as('push_bytes'),
          eb.fn.sum<number>('pull_bytes').as('pull_bytes'),
        ])
        .where('day', '>=', from)
        .where('day', '<=', to)
        .$if(scope !== 'all', (q) => q.where('project_id', 'in', scope as number[]))
        .groupBy('day')
        .execute(),
      this.db
        .selectFrom('insight_user_day')
        .select((eb) => ['day', eb.fn.count<number>('username').distinct().as('users')])
        .where('day', '>=', from)
        .where('day', '<=', to)
        .$if(scope !== 'all', (q) => q.where('project_id', 'in', scope as number[]))
        .groupBy('day')
        .execute(),
    ]);
    const active = new Map(users.map((u) => [u.day, Number(u.users)]));
    return counts.map((c) => ({
      day: c.day,
      pushes: Number(c.pushes),
      pulls: Number(c.pulls),
      deletes: Number(c.deletes),
      pushBytes: Number(c.push_bytes),
      pullBytes: Number(c.pull_bytes),
      activeUsers: active.get(c.day) ?? 0,
    }));
  }

  /** Distinct users who pushed or pulled in [from, to]. */
  async activeUsers(scope: InsightScope, from: string, to: string): Promise<number> {
    if (scope !== 'all' && scope.length === 0) return 0;
    const row = await this.db
      .selectFrom('insight_user_day')
      .select((eb) => eb.fn.count<number>('username').distinct().as('n'))
      .where('day', '>=', from)
      .where('day', '<=', to)
      .$if(scope !== 'all', (q) => q.where('project_id', 'in', scope as number[]))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** The `limit` repositories with the most pulls and pushes in [from, to], of projects that still exist. */
  async topRepositories(scope: InsightScope, from: string, to: string, limit: number) {
    if (scope !== 'all' && scope.length === 0) return [];
    const rows = await this.db
      .selectFrom('insight_repository_day as i')
      .innerJoin('project as p', 'p.id', 'i.project_id')
      .select((eb) => [
        'i.project_id',
        'p.name as project_name',
        'i.repository',
        eb.fn.sum<number>('i.pushes').as('pushes'),
        eb.fn.sum<number>('i.pulls').as('pulls'),
        eb.fn.sum<number>('i.push_bytes').as('push_bytes'),
        eb.fn.sum<number>('i.pull_bytes').as('pull_bytes'),
      ])
      .where('i.day', '>=', from)
      .where('i.day', '<=', to)
      .$if(scope !== 'all', (q) => q.where('i.project_id', 'in', scope as number[]))
      .groupBy(['i.project_id', 'p.name', 'i.repository'])
      .orderBy(sql`sum(i.pulls) + sum(i.pushes)`, 'desc')
      .orderBy('i.repository')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      projectId: r.project_id,
      projectName: r.project_name,
      repository: r.repository,
      pushes: Number(r.pushes),
      pulls: Number(r.pulls),
      pushBytes: Number(r.push_bytes),
      pullBytes: Number(r.pull_bytes),
    }));
  }

  /** The `limit` users with the most pulls and pushes in [from, to]. */
  async topUsers(scope: InsightScope, from: string, to: string, limit: number) {
    if (scope !== 'all' && scope.length === 0) return [];
    const rows = await this.db
      .selectFrom('insight_user_day')
      .select((eb) => [
        'username',
        eb.fn.sum<number>('pushes').as('pushes'),
        eb.fn.sum<number>('pulls').as('pulls'),
        eb.fn.count<number>('day').distinct().as('days'),
      ])
      .where('day', '>=', from)
      .where('day', '<=', to)
      .$if(scope !== 'all', (q) => q.where('project_id', 'in', scope as number[]))
      .groupBy('username')
      .orderBy(sql`sum(pulls) + sum(pushes)`, 'desc')
      .orderBy('username')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      username: r.username,
      pushes: Number(r.pushes),
      pulls: Number(r.pulls),
      activeDays: Number(r.days),
    }));
  }

  /**
   * Storage snapshots in [from, to], plus each project's last one before `from` (its value on `from`),
   * of projects that still exist, with their names.
   */
  async storage(scope: InsightScope, from: string, to: string) {
    if (scope !== 'all' && scope.length === 0) return { rows: [], names: new Map<number, string>() };
    const rows = await this.db
      .selectFrom('insight_storage_day as s')
      .innerJoin('project as p', 'p.id', 's.project_id')
      .select(['s.day', 's.project_id', 's.used_bytes', 'p.name'])
      .where('s.day', '<=', to)
      .where(fromOrLatestBefore('insight_storage_day', from))
      .$if(scope !== 'all', (q) => q.where('s.project_id', 'in', scope as number[]))
      .orderBy('s.day')
      .execute();
    return {
      rows: rows.map((r) => ({ day: r.day, projectId: r.project_id, value: Number(r.used_bytes) })),
      names: new Map(rows.map((r) => [r.project_id, r.name])),
    };
  }

  /** Vulnerability snapshots in [from, to], plus each project's last one before `from`. */
  async vulnerabilities(
    scope: InsightScope,
    from: string,
    to: string,
  ): Promise<ProjectSnapshot<Severities>[]> {
    if (scope !== 'all' && scope.length === 0) return [];
    const rows = await this.db
      .selectFrom('insight_vulnerability_day as s')
      .selectAll('s')
      .where('s.day', '<=', to)
      .where(fromOrLatestBefore('insight_vulnerability_day', from))
      .$if(scope !== 'all', (q) => q.where('s.project_id', 'in', scope as number[]))
      .orderBy('s.day')
      .execute();
    return rows.map((r) => ({
      day: r.day,
      projectId: r.project_id,
      value: {
        critical: Number(r.critical),
        high: Number(r.high),
        medium: Number(r.medium),
        low: Number(r.low),
        unknown: Number(r.unknown),
      },
    }));
  }
}
