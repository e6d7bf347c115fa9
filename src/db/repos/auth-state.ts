import type { Kysely } from 'kysely';
import type { Database } from '../tables.js';

/** Keys every node shares, UI sessions and failed-login counters: state of authentication, not identity. */
export class AuthStateRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** The stored key, creating it with `make()` first if absent; racing nodes all end up with one value. */
  async key(name: string, make: () => Promise<string> | string, now: string): Promise<string> {
    const found = await this.db
      .selectFrom('secret_key')
      .select('value')
      .where('name', '=', name)
      .executeTakeFirst();
    if (found) return found.value;
    await this.db
      .insertInto('secret_key')
      .values({ name, value: await make(), creation_time: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await this.db
      .selectFrom('secret_key')
      .select('value')
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    return row.value;
  }

  async createSession(row: {
    id: string;
    user_id: number;
    csrf_token: string;
    expires_at: string;
    creation_time: string;
  }) {
    await this.db.insertInto('ui_session').values(row).execute();
  }

  findSession(id: string) {
    return this.db.selectFrom('ui_session').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async deleteSession(id: string): Promise<void> {
    await this.db.deleteFrom('ui_session').where('id', '=', id).execute();
  }

  async purgeSessions(now: string): Promise<void> {
    await this.db.deleteFrom('ui_session').where('expires_at', '<', now).execute();
  }

  /** Failures counted under `key` in the window open since `since`, and when that window began. */
  async failures(key: string, since: string): Promise<{ failures: number; windowStart: string | null }> {
    const row = await this.db
      .selectFrom('auth_failure')
      .selectAll()
      .where('key', '=', key)
      .executeTakeFirst();
    return row && row.window_start >= since
      ? { failures: row.failures, windowStart: row.window_start }
      : { failures: 0, windowStart: null };
  }

  /** Counts one failure, starting a new window when the stored one began before `since`. */
  async recordFailure(key: string, now: string, since: string): Promise<void> {
    await this.db
      .insertInto('auth_failure')
      .values({ key, failures: 1, window_start: now })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) => ({
          failures: eb
            .case()
            .when('auth_failure.window_start', '<', since)
            .then(1)
            .else(eb('auth_failure.failures', '+', 1))
            .end(),
          window_start: eb
            .case()
            .when('auth_failure.window_start', '<', since)
            .then(now)
            .else(eb.ref('auth_failure.window_start'))
            .end(),
        })),
      )
      .execute();
  }

  async clearFailures(key: string): Promise<void> {
    await this.db.deleteFrom('auth_failure').where('key', '=', key).execute();
  }
}
