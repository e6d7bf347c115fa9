import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * `harbor_user.admin_in_auth`: the identity provider made this user an administrator at the last login
 * (LDAP group admin DN, OIDC admin group), Harbor's AdminRoleInAuth. Kept apart from `sysadmin`, which an
 * administrator grants by hand, so leaving the admin group revokes only what the group gave.
 */
export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .alterTable('harbor_user')
    .addColumn('admin_in_auth', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}
