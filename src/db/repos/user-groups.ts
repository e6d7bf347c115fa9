import { sql, type Insertable, type Kysely, type SqlBool, type Updateable } from 'kysely';
import type { Database, UserGroupRow, UserGroupTable } from '../tables.js';
import { likePattern } from './list-filter.js';

export class UserGroupRepo {
  constructor(private readonly db: Kysely<Database>) {}

  findById(id: number): Promise<UserGroupRow | undefined> {
    return this.db.selectFrom('user_group').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The group of that type whose name (HTTP/OIDC) or DN (LDAP) matches. */
  findByKey(groupType: number, key: string): Promise<UserGroupRow | undefined> {
    return this.db
      .selectFrom('user_group')
      .selectAll()
      .where('group_type', '=', groupType)
      .where(groupType === 1 ? 'ldap_group_dn' : 'group_name', '=', key)
      .orderBy('id')
      .executeTakeFirst();
  }

  async create(row: Insertable<UserGroupTable>): Promise<number> {
    const res = await this.db.insertInto('user_group').values(row).returning('id').executeTakeFirstOrThrow();
    return res.id;
  }

  async update(id: number, values: Updateable<UserGroupTable>): Promise<boolean> {
    const res = await this.db.updateTable('user_group').set(values).where('id', '=', id).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async delete(id: number): Promise<boolean> {
    await this.db
      .deleteFrom('project_member')
      .where('entity_type', '=', 'g')
      .where('entity_id', '=', id)
      .execute();
    const res = await this.db.deleteFrom('user_group').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async list(q: {
    groupName?: string;
    groupType?: number;
    ldapGroupDn?: string;
    offset: number;
    limit: number;
  }): Promise<{ rows: UserGroupRow[]; total: number }> {
    let base = this.db.selectFrom('user_group');
    if (q.groupName)
      base = base.where(sql<SqlBool>`lower(group_name) like lower(${likePattern(q.groupName)}) escape '\\'`);
    if (q.groupType !== undefined) base = base.where('group_type', '=', q.groupType);
    if (q.ldapGroupDn) base = base.where('ldap_group_dn', '=', q.ldapGroupDn);
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await base.selectAll().orderBy('id').offset(q.offset).limit(q.limit).execute();
    return { rows, total: Number(total.n) };
  }
}
