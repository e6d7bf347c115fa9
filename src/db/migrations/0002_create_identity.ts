import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Users, groups, project members, robot accounts, the audit log, UI sessions, failed-login counters and
 * the keys every node shares (token signing, data encryption). `harbor_user` as in Harbor: `user` is a
 * reserved word in PostgreSQL.
 */
export async function up(db: Kysely<unknown>, { id, bigint }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('harbor_user')
    .addColumn('id', ...id)
    .addColumn('username', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('email', 'varchar(255)')
    .addColumn('realname', 'varchar(255)', (c) => c.notNull().defaultTo(''))
    .addColumn('comment', 'varchar(255)', (c) => c.notNull().defaultTo(''))
    .addColumn('password_hash', 'varchar(255)')
    .addColumn('sysadmin', 'integer', (c) => c.notNull().defaultTo(0))
    // 'db' | 'ldap' | 'oidc'
    .addColumn('auth_source', 'varchar(16)', (c) => c.notNull().defaultTo('db'))
    // Stable id at the identity provider (LDAP DN, OIDC iss+sub).
    .addColumn('external_subject', 'varchar(1024)')
    // CLI secret, encrypted with the data key; readable by its owner, so not hashed.
    .addColumn('cli_secret', 'text')
    .addColumn('cli_secret_time', 'varchar(32)')
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('harbor_user_email_idx').on('harbor_user').column('email').execute();

  await db.schema
    .createTable('user_group')
    .addColumn('id', ...id)
    .addColumn('group_name', 'varchar(255)', (c) => c.notNull())
    // 1 LDAP, 2 HTTP, 3 OIDC (Harbor's group_type)
    .addColumn('group_type', 'integer', (c) => c.notNull())
    .addColumn('ldap_group_dn', 'varchar(1024)', (c) => c.notNull().defaultTo(''))
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('user_group_name_idx')
    .on('user_group')
    .columns(['group_type', 'group_name'])
    .execute();

  await db.schema
    .createTable('user_group_member')
    .addColumn('user_id', 'integer', (c) => c.notNull().references('harbor_user.id').onDelete('cascade'))
    .addColumn('group_id', 'integer', (c) => c.notNull().references('user_group.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('user_group_member_pk', ['user_id', 'group_id'])
    .execute();
  await db.schema
    .createIndex('user_group_member_group_idx')
    .on('user_group_member')
    .column('group_id')
    .execute();

  await db.schema
    .createTable('project_member')
    .addColumn('id', ...id)
    .addColumn('project_id', 'integer', (c) => c.notNull().references('project.id').onDelete('cascade'))
    .addColumn('entity_id', 'integer', (c) => c.notNull())
    // 'u' user, 'g' group
    .addColumn('entity_type', 'char(1)', (c) => c.notNull())
    .addColumn('role_id', 'integer', (c) => c.notNull())
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .addUniqueConstraint('project_member_uq', ['project_id', 'entity_id', 'entity_type'])
    .execute();
  await db.schema
    .createIndex('project_member_entity_idx')
    .on('project_member')
    .columns(['entity_type', 'entity_id'])
    .execute();

  await db.schema
    .createTable('robot')
    .addColumn('id', ...id)
    // Without the prefix; project robots are `<project>+<name>`.
    .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('description', 'varchar(1024)', (c) => c.notNull().defaultTo(''))
    .addColumn('secret_hash', 'varchar(255)', (c) => c.notNull())
    // 'system' | 'project'
    .addColumn('level', 'varchar(16)', (c) => c.notNull())
    .addColumn('project_id', 'integer', (c) => c.references('project.id').onDelete('cascade'))
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    // Days, -1 for never; expires_at is epoch seconds, -1 for never.
    .addColumn('duration', 'integer', (c) => c.notNull())
    .addColumn('expires_at', bigint, (c) => c.notNull())
    .addColumn('creator_ref', 'varchar(255)', (c) => c.notNull().defaultTo(''))
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('robot_permission')
    .addColumn('id', ...id)
    .addColumn('robot_id', 'integer', (c) => c.notNull().references('robot.id').onDelete('cascade'))
    // 'project' | 'system'
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    // Project name, '*' for every project, '/' for system grants.
    .addColumn('namespace', 'varchar(255)', (c) => c.notNull())
    .addColumn('resource', 'varchar(64)', (c) => c.notNull())
    .addColumn('action', 'varchar(64)', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('robot_permission_robot_idx')
    .on('robot_permission')
    .column('robot_id')
    .execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', ...id)
    .addColumn('project_id', 'integer')
    .addColumn('operation', 'varchar(64)', (c) => c.notNull())
    .addColumn('resource_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('resource', 'varchar(1024)', (c) => c.notNull())
    .addColumn('username', 'varchar(255)', (c) => c.notNull())
    .addColumn('client_ip', 'varchar(64)', (c) => c.notNull().defaultTo(''))
    .addColumn('user_agent', 'varchar(512)', (c) => c.notNull().defaultTo(''))
    .addColumn('success', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('op_time', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_log_time_idx').on('audit_log').columns(['op_time', 'id']).execute();
  await db.schema
    .createIndex('audit_log_project_idx')
    .on('audit_log')
    .columns(['project_id', 'op_time'])
    .execute();

  await db.schema
    .createTable('ui_session')
    // sha256 of the cookie value: a stolen database row cannot be replayed as a cookie.
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('harbor_user.id').onDelete('cascade'))
    .addColumn('csrf_token', 'varchar(64)', (c) => c.notNull())
    .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('auth_failure')
    // 'user:<name>' or 'ip:<address>'
    .addColumn('key', 'varchar(300)', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('window_start', 'varchar(32)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('secret_key')
    // 'token_signing' (a JWK), 'data_encryption' (base64 of 32 bytes)
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .execute();
}
