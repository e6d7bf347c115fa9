import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * `scanner_registration`: Harbor's scanner registrations (the built-in offline scanner, and external
 * adapters spoken to through the Pluggable Scanner API v1.1). `access_credential` is sealed
 * (AES-256-GCM with the database-held data key), as registry secrets are. `immutable` marks the built-in
 * one, which can be neither deleted nor changed, as Harbor's built-in Trivy registration. At most one row
 * is the default.
 *
 * `project_scanner`: the registration a project uses instead of the default (Harbor keeps it as the
 * `projectScanner` project metadata); gone with the project or the registration, so a project whose
 * scanner is deleted falls back to the default, as in Harbor.
 */
/** services/scanning/scanner.ts `BUILTIN_SCANNER_UUID`, written out: a shipped migration never changes. */
const builtinUuid = '00000000-0000-4000-8000-00000000be47';

export async function up(db: Kysely<unknown>, { id }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('scanner_registration')
    .addColumn('id', ...id)
    .addColumn('uuid', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('name', 'varchar(128)', (c) => c.notNull().unique())
    .addColumn('description', 'varchar(1024)', (c) => c.notNull().defaultTo(''))
    .addColumn('url', 'varchar(512)', (c) => c.notNull().unique())
    .addColumn('auth', 'varchar(32)', (c) => c.notNull().defaultTo(''))
    .addColumn('access_credential', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('skip_cert_verify', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('use_internal_addr', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('immutable', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('create_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('project_scanner')
    .addColumn('project_id', 'integer', (c) =>
      c.primaryKey().notNull().references('project.id').onDelete('cascade'),
    )
    .addColumn('registration_uuid', 'varchar(64)', (c) =>
      c.notNull().references('scanner_registration.uuid').onDelete('cascade'),
    )
    .execute();

  const now = new Date().toISOString();
  await (db as Kysely<{ scanner_registration: Record<string, unknown> }>)
    .insertInto('scanner_registration')
    .values({
      uuid: builtinUuid,
      name: 'Berth',
      description:
        'The built-in offline scanner: packages read from the layers, matched against the imported OSV database',
      url: 'builtin://berth',
      is_default: 1,
      immutable: 1,
      create_time: now,
      update_time: now,
    })
    .execute();
}
