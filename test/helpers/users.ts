import type { MetaStore } from '../../src/db/store.js';
import type { UserSubject } from '../../src/services/access/subject.js';

/** A local user row written directly (no password), and the subject it signs in as. */
export async function seedUser(store: Pick<MetaStore, 'users'>, username: string): Promise<UserSubject> {
  const now = new Date().toISOString();
  const userId = (await store.users.create({
    username,
    email: null,
    realname: '',
    comment: '',
    password_hash: null,
    sysadmin: 0,
    auth_source: 'db',
    external_subject: null,
    cli_secret: null,
    cli_secret_time: null,
    creation_time: now,
    update_time: now,
  }))!;
  return { kind: 'user', userId, username, sysadmin: false, groupIds: [] };
}
