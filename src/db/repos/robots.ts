import type { Insertable, Kysely, Updateable } from 'kysely';
import type { Database, RobotPermissionRow, RobotRow, RobotTable } from '../tables.js';

export type NewPermission = Omit<RobotPermissionRow, 'id' | 'robot_id'>;

export class RobotRepo {
  constructor(private readonly db: Kysely<Database>) {}

  findById(id: number): Promise<RobotRow | undefined> {
    return this.db.selectFrom('robot').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByName(name: string): Promise<RobotRow | undefined> {
    return this.db.selectFrom('robot').selectAll().where('name', '=', name).executeTakeFirst();
  }

  permissions(robotId: number): Promise<RobotPermissionRow[]> {
    return this.db
      .selectFrom('robot_permission')
      .selectAll()
      .where('robot_id', '=', robotId)
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
    const res = await this.db.deleteFrom('robot').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async list(q: {
    level?: 'system' | 'project';
    projectId?: number;
    name?: string;
    offset: number;
    limit: number;
  }): Promise<{ rows: RobotRow[]; total: number }> {
    let base = this.db.selectFrom('robot');
    if (q.level) base = base.where('level', '=', q.level);
    if (q.projectId !== undefined) base = base.where('project_id', '=', q.projectId);
    if (q.name) base = base.where('name', 'like', `%${q.name.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await base.selectAll().orderBy('id').offset(q.offset).limit(q.limit).execute();
    return { rows, total: Number(total.n) };
  }
}
