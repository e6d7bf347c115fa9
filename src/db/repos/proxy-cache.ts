import type { Kysely } from 'kysely';
import type { Database, ProxyManifestRow, ProxyTagRow } from '../tables.js';

/** The proxy cache's bookkeeping: tag checks, manifests awaiting their blobs, index children, fetch claims. */
export class ProxyCacheRepo {
  constructor(private readonly db: Kysely<Database>) {}

  tagCheck(repository: string, tag: string): Promise<ProxyTagRow | undefined> {
    return this.db
      .selectFrom('proxy_tag')
      .selectAll()
      .where('repository', '=', repository)
      .where('tag', '=', tag)
      .executeTakeFirst();
  }

  async recordTagCheck(repository: string, tag: string, digest: string, now: string): Promise<void> {
    await this.db
      .insertInto('proxy_tag')
      .values({ repository, tag, digest, checked_at: now })
      .onConflict((oc) => oc.columns(['repository', 'tag']).doUpdateSet({ digest, checked_at: now }))
      .execute();
  }

  pending(repository: string, digest: string): Promise<ProxyManifestRow | undefined> {
    return this.db
      .selectFrom('proxy_manifest')
      .selectAll()
      .where('repository', '=', repository)
      .where('digest', '=', digest)
      .executeTakeFirst();
  }

  pendingIn(repository: string): Promise<ProxyManifestRow[]> {
    return this.db
      .selectFrom('proxy_manifest')
      .selectAll()
      .where('repository', '=', repository)
      .orderBy('fetched_at')
      .limit(100)
      .execute();
  }

  async addPending(row: ProxyManifestRow): Promise<void> {
    await this.db
      .insertInto('proxy_manifest')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['repository', 'digest']).doUpdateSet({ tag: row.tag, fetched_at: row.fetched_at }),
      )
      .execute();
  }

  async removePending(repository: string, digest: string): Promise<void> {
    await this.db
      .deleteFrom('proxy_manifest')
      .where('repository', '=', repository)
      .where('digest', '=', digest)
      .execute();
  }

  async addMissingChildren(
    repository: string,
    parent: string,
    children: { digest: string; platform: string | null }[],
  ): Promise<void> {
    if (children.length === 0) return;
    await this.db
      .insertInto('proxy_index_child')
      .values(
        children.map((c) => ({
          repository,
          parent_digest: parent,
          child_digest: c.digest,
          platform: c.platform,
        })),
      )
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  /** The indexes waiting for this child, removed from the waiting list. */
  async takeParents(
    repository: string,
    child: string,
  ): Promise<{ parent: string; platform: string | null }[]> {
    const rows = await this.db
      .selectFrom('proxy_index_child')
      .select(['parent_digest', 'platform'])
      .where('repository', '=', repository)
      .where('child_digest', '=', child)
      .execute();
    if (rows.length === 0) return [];
    await this.db
      .deleteFrom('proxy_index_child')
      .where('repository', '=', repository)
      .where('child_digest', '=', child)
      .execute();
    return rows.map((r) => ({ parent: r.parent_digest, platform: r.platform }));
  }

  /** Claims a fetch for `owner` until `expiresAt`; true when no live claim of another owner stands. */
  async claim(key: string, owner: string, now: string, expiresAt: string): Promise<boolean> {
    const inserted = await this.db
      .insertInto('proxy_fetch')
      .values({ fetch_key: key, owner, expires_at: expiresAt })
      .onConflict((oc) => oc.column('fetch_key').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return true;
    const taken = await this.db
      .updateTable('proxy_fetch')
      .set({ owner, expires_at: expiresAt })
      .where('fetch_key', '=', key)
      .where((w) => w.or([w('expires_at', '<', now), w('owner', '=', owner)]))
      .executeTakeFirst();
    return Number(taken.numUpdatedRows) > 0;
  }

  async extend(key: string, owner: string, expiresAt: string): Promise<void> {
    await this.db
      .updateTable('proxy_fetch')
      .set({ expires_at: expiresAt })
      .where('fetch_key', '=', key)
      .where('owner', '=', owner)
      .execute();
  }

  async release(key: string, owner: string): Promise<void> {
    await this.db.deleteFrom('proxy_fetch').where('fetch_key', '=', key).where('owner', '=', owner).execute();
  }

  async addChildLink(
    parentId: number,
    child: { id: number; digest: string; size: number },
    platform: string | null,
  ): Promise<void> {
    const inserted = await this.db
      .insertInto('artifact_reference')
      .values({ parent_id: parentId, child_id: child.id, child_digest: child.digest, platform })
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0)
      await this.db
        .updateTable('artifact')
        .set((eb) => ({ size: eb('size', '+', child.size) }))
        .where('id', '=', parentId)
        .execute();
  }

  /** An artifact was deleted: its tag checks and the children its index still waited for go with it. */
  async forgetArtifact(repository: string, digest: string): Promise<void> {
    await this.db
      .deleteFrom('proxy_tag')
      .where('repository', '=', repository)
      .where('digest', '=', digest)
      .execute();
    await this.db
      .deleteFrom('proxy_index_child')
      .where('repository', '=', repository)
      .where('parent_digest', '=', digest)
      .execute();
  }

  async forgetTag(repository: string, tag: string): Promise<void> {
    await this.db
      .deleteFrom('proxy_tag')
      .where('repository', '=', repository)
      .where('tag', '=', tag)
      .execute();
  }

  /** The referrers page kept for a request, unless stored before `since`. */
  async referrerPage(
    key: string,
    since: string,
  ): Promise<{ body: string; headers: Record<string, string> } | undefined> {
    const row = await this.db
      .selectFrom('proxy_referrer_page')
      .select(['body', 'headers'])
      .where('page_key', '=', key)
      .where('stored_at', '>=', since)
      .executeTakeFirst();
    return row && { body: row.body, headers: JSON.parse(row.headers) as Record<string, string> };
  }

  /** Keeps the upstream's latest page for a request; pages stored before `expired` go. */
  async keepReferrerPage(
    row: { key: string; projectId: number; body: string; headers: Record<string, string>; now: string },
    expired: string,
  ): Promise<void> {
    const values = { body: row.body, headers: JSON.stringify(row.headers), stored_at: row.now };
    await this.db
      .insertInto('proxy_referrer_page')
      .values({ page_key: row.key, project_id: row.projectId, ...values })
      .onConflict((oc) => oc.column('page_key').doUpdateSet(values))
      .execute();
    await this.db.deleteFrom('proxy_referrer_page').where('stored_at', '<', expired).execute();
  }

  /** A repository was deleted: nothing of its bookkeeping stays (fetched manifests included). */
  async forgetRepository(repository: string): Promise<void> {
    for (const table of ['proxy_tag', 'proxy_manifest', 'proxy_index_child'] as const)
      await this.db.deleteFrom(table).where('repository', '=', repository).execute();
  }
}
