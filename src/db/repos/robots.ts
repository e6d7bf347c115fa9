import type { Insertable, Kysely, Updateable } from 'kysely';
import type { ListQuery } from '../../lib/query.js';
import type { Database, RobotPermissionRow, RobotRow, RobotTable } from '../tables.js';
import { applyKeywords, applySorts, type FieldMap } from './list-filter.js';

export type NewPermission = Omit<RobotPermissionRow, 'id' | 'robot_id'>;

/** `q` keys and sorts of the robot list (Harbor's `Level` and `ProjectID` are handled by the caller). */
export const robotFields: FieldMap = {
  name: { column: 'name', type: 'string' },
  description: { column: 'description', type: 'string' },
  id: { column: 'id', type: 'int' },
  creation_time: { column: 'creation_time', type: 'time' },
  update_time: { column: 'update_time', type: 'time' },
  expires_at: { column: 'expires_at', type: 'int' },
  disabled: { column: 'disabled', type: 'bool' },
  Level: { type: 'string', sort: false },
  ProjectID: { type: 'int', sort: false },
};

export class RobotRepo {
  constructor(private readonly db: Kysely<Database>) {}

  findById(id: number): Promise<RobotRow | undefined> {
    return this.db.selectFrom('robot').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByName(name: string): Promise<RobotRow | undefined> {
    return this.db.selectFrom('robot').selectAll().where('name', '=', name).executeTakeFirst();
  }

  permissions(robotId: number): Promise<RobotPermissionRow[]> {
    return this.permissionsOf([robotId]);
  }

  /** The permissions of several robots in one query (lists). */
  async permissionsOf(robotIds: readonly number[]): Promise<RobotPermissionRow[]> {
    if (robotIds.length === 0) return [];
    return this.db
      .selectFrom('robot_permission')
      .selectAll()
      .where('robot_id', 'in', [...robotIds])
      .orderBy('id')
      .execute();
  }

  /** Inserts the robot and its permissions; undefined when the name is taken. */
  async create(
    row: Insertable<RobotTable>,
    permissions: readonly NewPermission[],
  ): Promise<number | undefined> {
    const res = await this.db
      .insertInto('robot')
      .values(row)
      .onConflict((oc) => oc.column('name').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!res) return undefined;
    await this.setPermissions(res.id, permissions);
    return res.id;
  }

  async setPermissions(robotId: number, permissions: readonly NewPermission[]): Promise<void> {
    await this.db.deleteFrom('robot_permission').where('robot_id', '=', robotId).execute();
    if (permissions.length > 0)
      await this.db
        .insertInto('robot_permission')
        .values(permissions.map((p) => ({ ...p, robot_id: robotId })))
        .execute();
  }

  async update(id: number, values: Updateable<RobotTable>): Promise<boolean> {
    const res = await this.db.updateTable('robot').set(values).where('id', '=', id).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async delete(id: number): Promise<boolean> {
    await this.db.deleteFrom('robot_permission').where('robot_id', '=', id).execute();
    const res = await this.db.deleteFrom('robot').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** Robots of one level (and project), filtered and sorted by `query`; oldest first by default. */
  async list(
    level: 'system' | 'project',
    projectId: number | undefined,
    query: ListQuery,
  ): Promise<{ rows: RobotRow[]; total: number }> {
    let base = this.db.selectFrom('robot').where('level', '=', level);
    if (projectId !== undefined) base = base.where('project_id', '=', projectId);
    base = applyKeywords(base, robotFields, query.keywords);
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await applySorts(base.selectAll(), robotFields, query.sorts, [], 'id')
      .offset((query.page - 1) * query.pageSize)
      .limit(query.pageSize)
      .execute();
    return { rows, total: Number(total.n) };
  }
}

/** Keys a robot list accepts in `q` besides `Level` and `ProjectID`. */
