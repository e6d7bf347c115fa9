import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { Keyword, ListQuery, Page } from '../../lib/query.js';
import { offsetOf } from '../../lib/query.js';
import type { ArtifactRow, Database, TagRow } from '../tables.js';
import { applyKeywords, applySorts, keywordCondition, likePattern, type FieldMap } from './list-filter.js';

export const artifactFields: FieldMap = {
  id: { column: 'artifact.id', type: 'int' },
  digest: { column: 'artifact.digest', type: 'string' },
  media_type: { column: 'artifact.media_type', type: 'string', sort: false },
  artifact_type: { column: 'artifact.artifact_type', type: 'string', sort: false },
  size: { column: 'artifact.size', type: 'int' },
  push_time: { column: 'artifact.push_time', type: 'time' },
  pull_time: { column: 'artifact.pull_time', type: 'time' },
  // Answered by list() itself: tag names, label ids (all-of or any-of), and base=* (children too).
  tags: { type: 'string', sort: false },
  labels: { type: 'int', sort: false },
  base: { type: 'string', sort: false },
};

/** An artifact's tags list. */
export const tagFields: FieldMap = {
  name: { column: 'tag.name', type: 'string' },
  id: { column: 'tag.id', type: 'int' },
  push_time: { column: 'tag.push_time', type: 'time' },
  pull_time: { column: 'tag.pull_time', type: 'time' },
};

export interface ReferenceRow {
  parent_id: number;
  child_id: number;
  child_digest: string;
  platform: string | null;
}

/** An artifact that no index lists (Harbor lists index children only under their index). */
export function notIndexChild(eb: ExpressionBuilder<Database, 'artifact'>) {
  return eb.not(
    eb.exists(
      eb
        .selectFrom('artifact_reference as ar')
        .select('ar.child_id')
        .whereRef('ar.child_id', '=', 'artifact.id'),
    ),
  );
}

/**
 * The API's side of artifacts: filtered pages (index children and accessories hidden unless `base=*`, as
 * Harbor lists them), and batch loaders so a page costs a fixed number of queries.
 */
export class ArtifactCatalog {
  constructor(private readonly db: Kysely<Database>) {}

  async list(
    query: ListQuery,
    where: { repositoryId?: number; projectId?: number; latestInRepository?: 'media_type' | 'artifact_type' },
  ): Promise<Page<ArtifactRow>> {
    const kw = query.keywords;
    let base = applyKeywords(this.db.selectFrom('artifact'), artifactFields, kw);
    if (where.repositoryId !== undefined)
      base = base.where('artifact.repository_id', '=', where.repositoryId);
    if (where.projectId !== undefined)
      base = base.where('artifact.repository_id', 'in', (eb) =>
        eb
          .selectFrom('repository')
          .select('repository.id')
          .where('repository.project_id', '=', where.projectId!),
      );
    const baseKw = kw.base;
    if (!(baseKw?.kind === 'exact' && baseKw.value === '*')) {
      base = base.where('artifact.subject_digest', 'is', null).where(notIndexChild);
    }
    const latest = where.latestInRepository;
    // Harbor's latest_in_repository: no artifact of the same repository and type was pushed after it.
    if (latest)
      base = base.where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('artifact as newer')
              .select('newer.id')
              .whereRef('newer.repository_id', '=', 'artifact.repository_id')
              .whereRef(`newer.${latest}`, '=', `artifact.${latest}`)
              .where('newer.subject_digest', 'is', null)
              .where((n) =>
                n.or([
                  n('newer.push_time', '>', n.ref('artifact.push_time')),
                  n.and([
                    n('newer.push_time', '=', n.ref('artifact.push_time')),
                    n('newer.id', '>', n.ref('artifact.id')),
                  ]),
                ]),
              ),
          ),
        ),
      );
    if (kw.tags) base = base.where((eb) => tagCondition(eb, kw.tags!));
    if (kw.labels) {
      const ids = labelIds(kw.labels);
      const any = kw.labels.kind === 'or';
      base = base.where((eb) => {
        const has = (id: number) =>
          eb.exists(
            eb
              .selectFrom('artifact_label as al')
              .select('al.label_id')
              .whereRef('al.artifact_id', '=', 'artifact.id')
              .where('al.label_id', '=', id),
          );
        return any ? eb.or(ids.map(has)) : eb.and(ids.map(has));
      });
    }
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const items = await applySorts(
      base.selectAll('artifact'),
      artifactFields,
      query.sorts,
      [{ key: 'push_time', desc: true }],
      'artifact.id',
    )
      .limit(query.pageSize)
      .offset(offsetOf(query))
      .execute();
    return { total: Number(total.n), items };
  }

  /** Tags of each artifact, in name order, in one query. */
  async tagsOf(artifactIds: readonly number[]): Promise<Map<number, TagRow[]>> {
    const out = new Map<number, TagRow[]>();
    if (artifactIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('tag')
      .selectAll()
      .where('artifact_id', 'in', [...artifactIds])
      .orderBy('name')
      .execute();
    for (const r of rows) (out.get(r.artifact_id) ?? out.set(r.artifact_id, []).get(r.artifact_id)!).push(r);
    return out;
  }

  /** Index → child links of each artifact, in one query. */
  async referencesOf(artifactIds: readonly number[]): Promise<Map<number, ReferenceRow[]>> {
    const out = new Map<number, ReferenceRow[]>();
    if (artifactIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('artifact_reference')
      .selectAll()
      .where('parent_id', 'in', [...artifactIds])
      .execute();
    for (const r of rows) (out.get(r.parent_id) ?? out.set(r.parent_id, []).get(r.parent_id)!).push(r);
    return out;
  }

  /** Artifacts whose subject is one of `digests` in the repository (signatures, SBOMs, ...), by subject. */
  async accessoriesOf(repositoryId: number, digests: readonly string[]): Promise<Map<string, ArtifactRow[]>> {
    const out = new Map<string, ArtifactRow[]>();
    if (digests.length === 0) return out;
    const rows = await this.db
      .selectFrom('artifact')
      .selectAll()
      .where('repository_id', '=', repositoryId)
      .where('subject_digest', 'in', [...digests])
      .orderBy('id')
      .execute();
    for (const r of rows) {
      const key = r.subject_digest!;
      (out.get(key) ?? out.set(key, []).get(key)!).push(r);
    }
    return out;
  }

  /** Tags of one artifact, as a page. */
  async tagPage(artifactId: number, query: ListQuery): Promise<Page<TagRow>> {
    const fields = tagFields;
    const base = applyKeywords(
      this.db.selectFrom('tag').where('artifact_id', '=', artifactId),
      fields,
      query.keywords,
    );
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const items = await applySorts(
      base.selectAll(),
      fields,
      query.sorts,
      [{ key: 'name', desc: false }],
      'tag.id',
    )
      .limit(query.pageSize)
      .offset(offsetOf(query))
      .execute();
    return { total: Number(total.n), items };
  }

  /** Blob digests (manifest included) and sizes the artifact references. */
  async blobsOf(artifactId: number): Promise<{ digest: string; size: number }[]> {
    const rows = await this.db
      .selectFrom('artifact_blob')
      .innerJoin('blob', 'blob.digest', 'artifact_blob.blob_digest')
      .select(['blob.digest', 'blob.size'])
      .where('artifact_blob.artifact_id', '=', artifactId)
      .execute();
    return rows.map((r) => ({ digest: r.digest, size: Number(r.size) }));
  }

  /**
   * The next `limit` artifacts after id `afterId` that scan all walks: neither an accessory nor an index's
   * child (an index's scan covers its children), with their repository's name and project.
   */
  scanBatch(
    afterId: number,
    limit: number,
  ): Promise<(ArtifactRow & { repository_name: string; project_id: number })[]> {
    return this.db
      .selectFrom('artifact')
      .innerJoin('repository', 'repository.id', 'artifact.repository_id')
      .selectAll('artifact')
      .select(['repository.name as repository_name', 'repository.project_id'])
      .where('artifact.id', '>', afterId)
      .where('artifact.subject_digest', 'is', null)
      .where(notIndexChild)
      .orderBy('artifact.id')
      .limit(limit)
      .execute();
  }

  async countAll(): Promise<number> {
    const row = await this.db
      .selectFrom('artifact')
      .select(sql<number>`count(*)`.as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

function labelIds(kw: Keyword): number[] {
  if (kw.kind === 'exact') return [Number(kw.value)];
  if (kw.kind === 'or' || kw.kind === 'and') return kw.values.map(Number);
  return [];
}

/** Harbor's tag filters: `tags=*` tagged, `tags=nil` untagged, `tags=v` exact, `tags=~v` fuzzy, `{a b}` any. */
function tagCondition(eb: ExpressionBuilder<Database, 'artifact'>, kw: Keyword) {
  const tagged = eb.selectFrom('tag as t').select('t.id').whereRef('t.artifact_id', '=', 'artifact.id');
  if (kw.kind === 'exact' && kw.value === '*') return eb.exists(tagged);
  if (kw.kind === 'exact' && kw.value === 'nil') return eb.not(eb.exists(tagged));
  if (kw.kind === 'fuzzy')
    return eb.exists(
      tagged.where(sql<boolean>`lower(t.name) like lower(${likePattern(kw.value)}) escape '\\'`),
    );
  return eb.exists(tagged.where((e) => keywordCondition(e, 't.name', 'string', kw)));
}
