import type { ExpressionBuilder, Kysely } from 'kysely';
import type { Database, ProjectMemberRow } from '../tables.js';

/** The member rows of the user itself or of one of its groups. */
function memberIs(
  eb: ExpressionBuilder<Database, 'project_member'>,
  userId: number,
  groupIds: readonly number[],
) {
  return eb.or([
    eb.and([eb('entity_type', '=', 'u'), eb('entity_id', '=', userId)]),
    ...(groupIds.length > 0 ? [eb.and([eb('entity_type', '=', 'g'), eb('entity_id', 'in', groupIds)])] : []),
  ]);
}

/** A member row with the user's or group's name. */
export type MemberView = ProjectMemberRow & { entity_name: string };

export class ProjectMemberRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Role ids the user holds in the project, directly or through any of its groups. */
  async roleIds(projectId: number, userId: number, groupIds: readonly number[]): Promise<number[]> {
    const rows = await this.db
      .selectFrom('project_member')
      .select('role_id')
      .where('project_id', '=', projectId)
      .where((eb) => memberIs(eb, userId, groupIds))
      .execute();
    return rows.map((r) => r.role_id);
  }

  /** Member counts of the project by role id, as the project summary shows them. */
  async countsByRole(projectId: number): Promise<Map<number, number>> {
    const rows = await this.db
      .selectFrom('project_member')
      .select(['role_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('project_id', '=', projectId)
      .groupBy('role_id')
      .execute();
    return new Map(rows.map((r) => [r.role_id, Number(r.n)]));
  }

  /** Ids of the projects where the user (or one of its groups) is a member. */
  async projectIds(userId: number, groupIds: readonly number[]): Promise<number[]> {
    const rows = await this.db
      .selectFrom('project_member')
      .select('project_id')
      .distinct()
      .where((eb) => memberIs(eb, userId, groupIds))
      .execute();
    return rows.map((r) => r.project_id);
  }

  /** Whether the user (or one of its groups) holds the role in at least one project. */
  async holdsRoleAnywhere(userId: number, groupIds: readonly number[], roleId: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('project_member')
      .select('id')
      .where('role_id', '=', roleId)
      .where((eb) => memberIs(eb, userId, groupIds))
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  private view() {
    return this.db
      .selectFrom('project_member as m')
      .leftJoin('harbor_user as u', (j) => j.onRef('u.id', '=', 'm.entity_id').on('m.entity_type', '=', 'u'))
      .leftJoin('user_group as g', (j) => j.onRef('g.id', '=', 'm.entity_id').on('m.entity_type', '=', 'g'))
      .selectAll('m')
      .select((eb) => eb.fn.coalesce('u.username', 'g.group_name', eb.val('')).as('entity_name'));
  }

  async list(
    projectId: number,
    q: { entityName?: string; offset: number; limit: number },
  ): Promise<{ rows: MemberView[]; total: number }> {
    const all = (await this.view()
      .where('m.project_id', '=', projectId)
      .orderBy('m.id')
      .execute()) as MemberView[];
    const hits = q.entityName ? all.filter((r) => r.entity_name.includes(q.entityName!)) : all;
    return { rows: hits.slice(q.offset, q.offset + q.limit), total: hits.length };
  }

  async find(projectId: number, memberId: number): Promise<MemberView | undefined> {
    return (await this.view()
      .where('m.project_id', '=', projectId)
      .where('m.id', '=', memberId)
      .executeTakeFirst()) as MemberView | undefined;
  }

  /** Adds a member; undefined when that user or group is already a member. */
  async create(
    projectId: number,
    entityType: 'u' | 'g',
    entityId: number,
    roleId: number,
    now: string,
  ): Promise<number | undefined> {
    const res = await this.db
      .insertInto('project_member')
      .values({
        project_id: projectId,
        entity_type: entityType,
        entity_id: entityId,
        role_id: roleId,
        creation_time: now,
        update_time: now,
      })
      .onConflict((oc) => oc.columns(['project_id', 'entity_id', 'entity_type']).doNothing())
      .returning('id')
      .executeTakeFirst();
    return res?.id;
  }

  async updateRole(projectId: number, memberId: number, roleId: number, now: string): Promise<boolean> {
    const res = await this.db
      .updateTable('project_member')
      .set({ role_id: roleId, update_time: now })
      .where('project_id', '=', projectId)
      .where('id', '=', memberId)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async delete(projectId: number, memberId: number): Promise<boolean> {
    const res = await this.db
      .deleteFrom('project_member')
      .where('project_id', '=', projectId)
      .where('id', '=', memberId)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}
