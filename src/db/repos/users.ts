import type { Insertable, Kysely, Updateable } from 'kysely';
import { uncached, type CachedReads } from '../read-cache.js';
import { offsetOf, type ListQuery, type Page } from '../../lib/query.js';
import type { Database, UserRow, UserTable } from '../tables.js';
import { applyKeywords, applySorts, type FieldMap } from './list-filter.js';

/** `q` keys and sorts of the user list (ordered by id unless sorted). */
export const userFields: FieldMap = {
  username: { column: 'username', type: 'string' },
  email: { column: 'email', type: 'string' },
  user_id: { column: 'id', type: 'int', filter: false },
  creation_time: { column: 'creation_time', type: 'time', filter: false },
  update_time: { column: 'update_time', type: 'time', filter: false },
};

export class UserRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly reads: CachedReads = uncached,
  ) {}

  findById(id: number): Promise<UserRow | undefined> {
    return this.reads.get(`user:${id}`, () =>
      this.db.selectFrom('harbor_user').selectAll().where('id', '=', id).executeTakeFirst(),
    );
  }

  findByName(username: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('harbor_user').selectAll().where('username', '=', username).executeTakeFirst();
  }

  findByEmail(email: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('harbor_user').selectAll().where('email', '=', email).executeTakeFirst();
  }

  /** Inserts the user unless the username exists; returns the new id, or undefined on a clash. */
  async create(row: Insertable<UserTable>): Promise<number | undefined> {
    const res = await this.db
      .insertInto('harbor_user')
      .values(row)
      .onConflict((oc) => oc.column('username').doNothing())
      .returning('id')
      .executeTakeFirst();
    return res?.id;
  }

  async update(id: number, values: Updateable<UserTable>): Promise<boolean> {
    const res = await this.db.updateTable('harbor_user').set(values).where('id', '=', id).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async delete(id: number): Promise<boolean> {
    await this.db
      .deleteFrom('project_member')
      .where('entity_type', '=', 'u')
      .where('entity_id', '=', id)
      .execute();
    const res = await this.db.deleteFrom('harbor_user').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async list(query: ListQuery): Promise<Page<UserRow>> {
    const base = applyKeywords(this.db.selectFrom('harbor_user'), userFields, query.keywords);
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const items = await applySorts(base.selectAll(), userFields, query.sorts, [], 'id')
      .offset(offsetOf(query))
      .limit(query.pageSize)
      .execute();
    return { items, total: Number(total.n) };
  }

  async namesByIds(ids: readonly number[]): Promise<Map<number, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('harbor_user')
      .select(['id', 'username'])
      .where('id', 'in', [...ids])
      .execute();
    return new Map(rows.map((r) => [r.id, r.username]));
  }

  async idsByNames(names: readonly string[]): Promise<Map<string, number>> {
    if (names.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('harbor_user')
      .select(['id', 'username'])
      .where('username', 'in', [...names])
      .execute();
    return new Map(rows.map((r) => [r.username, r.id]));
  }

  /** Ids of the user groups the user belongs to. */
  groupIds(userId: number): Promise<number[]> {
    return this.reads.get(`user:groups:${userId}`, async () => {
      const rows = await this.db
        .selectFrom('user_group_member')
        .select('group_id')
        .where('user_id', '=', userId)
        .execute();
      return rows.map((r) => r.group_id);
    });
  }

  /** Replaces the user's group memberships (at login, from the identity provider). */
  async setGroups(userId: number, groupIds: readonly number[]): Promise<void> {
    await this.db.deleteFrom('user_group_member').where('user_id', '=', userId).execute();
    if (groupIds.length > 0)
      await this.db
        .insertInto('user_group_member')
        .values([...new Set(groupIds)].map((group_id) => ({ user_id: userId, group_id })))
        // Two first logins at once both insert: the second finds the rows there.
        .onConflict((oc) => oc.columns(['user_id', 'group_id']).doNothing())
        .execute();
  }
}
