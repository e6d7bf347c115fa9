import type { Kysely } from 'kysely';

/**
 * `proxy_referrer_page`: the upstream's last answer to a referrers request of a proxy project with
 * `proxy_referrer_api` on (docs/proxy-cache.md), served when the upstream cannot be asked. In the
 * database, as Harbor keeps it in Redis, so every process and node serves the latest one: a copy per
 * process served a page older than what another process had already seen.
 * `page_key` is the SHA-256 of the request (project, repository, digest, query); `stored_at` bounds the
 * page's life (7 days, Harbor's TTL).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('proxy_referrer_page')
    .addColumn('page_key', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project_id', 'integer', (c) => c.notNull().references('project.id').onDelete('cascade'))
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('headers', 'text', (c) => c.notNull())
    .addColumn('stored_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('proxy_referrer_page_stored_at')
    .on('proxy_referrer_page')
    .column('stored_at')
    .execute();
}
