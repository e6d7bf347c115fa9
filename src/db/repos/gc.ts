import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { ArtifactRow, Database, ExecutionRow } from '../tables.js';
import { ExecutionRepo } from './executions.js';

export const gcVendor = 'GARBAGE_COLLECTION';

/** A blob as garbage collection examines it. */
export interface GcBlob {
  id: number;
  digest: string;
  size: number;
  version: number;
  manifest: number;
}

/** Which unreferenced blobs are garbage: `cutoff` is now minus the grace period. */
export interface GcRule {
  cutoff: string;
}

export type UntaggedArtifact = ArtifactRow & { repository_name: string };

/**
 * Garbage collection's view of the metadata: unreferenced blobs, the mark that fences their deletion
 * against concurrent writers, untagged artifacts, and GC executions (Harbor's execution rows).
 */
export class GcRepo {
  private readonly executions: ExecutionRepo;

  constructor(private readonly db: Kysely<Database>) {
    this.executions = new ExecutionRepo(db, gcVendor);
  }

  /** Blob rows and their bytes, all of them. */
  async totals(): Promise<{ blobs: number; bytes: number }> {
    const row = await this.db
      .selectFrom('blob')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('size').as('bytes')])
      .executeTakeFirstOrThrow();
    return { blobs: Number(row.n), bytes: Number(row.bytes ?? 0) };
  }

  /**
   * Live blobs no artifact references, ordered by id after `afterId`. Garbage when touched (uploaded,
   * mounted) before the cutoff, or when a manifest referenced them after their last touch (so no push is
   * still waiting for them); `recent` lists the other, kept ones.
   */
  unreferenced(rule: GcRule, kind: 'garbage' | 'recent', afterId: number, limit: number): Promise<GcBlob[]> {
    let q = this.db
      .selectFrom('blob')
      .select(['blob.id', 'blob.digest', 'blob.size', 'blob.version', 'blob.manifest'])
      .where('blob.gc_mark', 'is', null)
      .where('blob.id', '>', afterId)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('artifact_blob')
              .select(sql.lit(1).as('one'))
              .whereRef('artifact_blob.blob_digest', '=', 'blob.digest'),
          ),
        ),
      );
    q =
      kind === 'garbage'
        ? q.where((eb) =>
            eb.or([
              eb('blob.touch_time', '<', rule.cutoff),
              eb.and([
                eb('blob.ref_time', 'is not', null),
                eb('blob.ref_time', '>=', eb.ref('blob.touch_time')),
              ]),
            ]),
          )
        : q
            .where('blob.touch_time', '>=', rule.cutoff)
            .where((eb) =>
              eb.or([eb('blob.ref_time', 'is', null), eb('blob.ref_time', '<', eb.ref('blob.touch_time'))]),
            );
    return q.orderBy('blob.id').limit(limit).execute();
  }

  /**
   * Marks blobs for deletion, each only at the version examined and while still unreferenced: a writer
   * that bumped the version (upload, mount, manifest PUT) in between keeps its blob. On PostgreSQL the
   * rows a writer holds locked right now are skipped (that writer is touching them), so GC never waits
   * on a push and no lock cycle can form. Returns the blobs marked.
   */
  async mark(blobs: GcBlob[], now: string): Promise<GcBlob[]> {
    if (blobs.length === 0) return [];
    if (!(this.db.getExecutor().adapter instanceof PostgresAdapter)) return markRows(this.db, blobs, now);
    return this.db.transaction().execute(async (trx) => {
      const free = await trx
        .selectFrom('blob')
        .select('id')
        .where('gc_mark', 'is', null)
        .where((eb) => eb.or(blobs.map((b) => eb.and([eb('id', '=', b.id), eb('version', '=', b.version)]))))
        .forUpdate()
        .skipLocked()
        .execute();
      const ids = new Set(free.map((r) => r.id));
      return markRows(
        trx,
        blobs.filter((b) => ids.has(b.id)),
        now,
      );
    });
  }

  /** Blobs marked for deletion (a run that died leaves them; the next one finishes them). */
  marked(limit: number, markedBefore?: string): Promise<GcBlob[]> {
    return this.db
      .selectFrom('blob')
      .select(['id', 'digest', 'size', 'version', 'manifest'])
      .where('gc_mark', 'is not', null)
      .$if(markedBefore !== undefined, (q) => q.where('gc_mark', '<', markedBefore!))
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /** Drops one marked blob's row (its bytes are gone), with its project links. */
  async removeMarked(digest: string): Promise<void> {
    const row = await this.db
      .selectFrom('blob')
      .select('id')
      .where('digest', '=', digest)
      .where('gc_mark', 'is not', null)
      .executeTakeFirst();
    if (row) await this.remove([row.id]);
  }

  /** Drops the rows of marked blobs whose bytes are gone, with their project links. */
  async remove(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.deleteFrom('project_blob').where('blob_id', 'in', ids).execute();
    // The scanner's reading of a layer (0015) goes with its blob.
    await this.db
      .deleteFrom('layer_inventory')
      .where('digest', 'in', (eb) =>
        eb.selectFrom('blob').select('digest').where('id', 'in', ids).where('gc_mark', 'is not', null),
      )
      .execute();
    await this.db.deleteFrom('blob').where('id', 'in', ids).where('gc_mark', 'is not', null).execute();
  }

  /**
   * Untagged artifacts pushed before `cutoff` that nothing depends on: not listed by an index and not an
   * accessory (those go with their subject). With the repository's name, oldest first.
   */
  untagged(cutoff: string, limit: number): Promise<UntaggedArtifact[]> {
    return this.db
      .selectFrom('artifact')
      .innerJoin('repository', 'repository.id', 'artifact.repository_id')
      .selectAll('artifact')
      .select('repository.name as repository_name')
      .where('artifact.id', 'in', this.untaggedIds(cutoff))
      .orderBy('artifact.id')
      .limit(limit)
      .execute();
  }

  /**
   * The children of `parentIds` that would be untagged artifacts once those parents are gone (no tag, no
   * subject, pushed before `cutoff`), with every index that lists each of them.
   */
  async untaggedChildren(
    parentIds: number[],
    cutoff: string,
  ): Promise<{ child: UntaggedArtifact; parents: number[] }[]> {
    if (parentIds.length === 0) return [];
    const children = await this.db
      .selectFrom('artifact')
      .innerJoin('repository', 'repository.id', 'artifact.repository_id')
      .selectAll('artifact')
      .select('repository.name as repository_name')
      .where('artifact.id', 'in', (eb) =>
        eb.selectFrom('artifact_reference').select('child_id').where('parent_id', 'in', parentIds),
      )
      .where('artifact.push_time', '<', cutoff)
      .where('artifact.subject_digest', 'is', null)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb.selectFrom('tag').select(sql.lit(1).as('one')).whereRef('tag.artifact_id', '=', 'artifact.id'),
          ),
        ),
      )
      .orderBy('artifact.id')
      .execute();
    if (children.length === 0) return [];
    const links = await this.db
      .selectFrom('artifact_reference')
      .select(['parent_id', 'child_id'])
      .where(
        'child_id',
        'in',
        children.map((c) => c.id),
      )
      .execute();
    return children.map((child) => ({
      child,
      parents: links.filter((l) => l.child_id === child.id).map((l) => l.parent_id),
    }));
  }

  /** Live blobs referenced by one of `artifactIds` (at most 500 ids). */
  referencedBy(artifactIds: number[]): Promise<(GcBlob & { artifact_id: number })[]> {
    if (artifactIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('artifact_blob')
      .innerJoin('blob', 'blob.digest', 'artifact_blob.blob_digest')
      .select([
        'blob.id',
        'blob.digest',
        'blob.size',
        'blob.version',
        'blob.manifest',
        'artifact_blob.artifact_id',
      ])
      .where('artifact_blob.artifact_id', 'in', artifactIds)
      .where('blob.gc_mark', 'is', null)
      .execute();
  }

  /** Which artifacts reference each of `digests` (at most 500). */
  referencing(digests: string[]): Promise<{ artifact_id: number; blob_digest: string }[]> {
    if (digests.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('artifact_blob')
      .select(['artifact_id', 'blob_digest'])
      .where('blob_digest', 'in', digests)
      .execute();
  }

  private untaggedIds(cutoff: string) {
    return this.db
      .selectFrom('artifact as a')
      .select('a.id')
      .where('a.push_time', '<', cutoff)
      .where('a.subject_digest', 'is', null)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb.selectFrom('tag').select(sql.lit(1).as('one')).whereRef('tag.artifact_id', '=', 'a.id'),
          ),
        ),
      )
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('artifact_reference')
              .select(sql.lit(1).as('one'))
              .whereRef('artifact_reference.child_id', '=', 'a.id'),
          ),
        ),
      );
  }

  async createExecution(trigger: string, attrs: object, status: string, now: string): Promise<ExecutionRow> {
    const row = await this.executions.create(0, trigger, now, attrs);
    await this.setExecution(row.id, { status }, now);
    return { ...row, status };
  }

  findExecution(id: number): Promise<ExecutionRow | undefined> {
    return this.executions.find(id);
  }

  /** Executions not finished (Pending or Running). */
  open(): Promise<ExecutionRow[]> {
    return this.db
      .selectFrom('execution')
      .selectAll()
      .where('vendor_type', '=', gcVendor)
      .where('status', 'in', ['Pending', 'Running'])
      .orderBy('id')
      .execute();
  }

  async listExecutions(offset: number, limit: number): Promise<{ rows: ExecutionRow[]; total: number }> {
    const q = this.db.selectFrom('execution').where('vendor_type', '=', gcVendor);
    const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await q.selectAll().orderBy('id', 'desc').offset(offset).limit(limit).execute();
    return { rows, total: Number(total.n) };
  }

  async setExecution(
    id: number,
    values: { status?: string; status_message?: string; extra_attrs?: string; end_time?: string | null },
    now: string,
    onlyIfStatus?: string[],
  ): Promise<boolean> {
    const res = await this.db
      .updateTable('execution')
      .set({ ...values, update_time: now })
      .where('id', '=', id)
      .$if(onlyIfStatus !== undefined, (q) => q.where('status', 'in', onlyIfStatus!))
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /**
   * `gc.run` jobs pending or running (a stopped execution's job runs until its batch is done), but
   * `exceptJob` and those whose execution already ended Success or Error (the job only has its own
   * bookkeeping left, so a run started right after one finished is not refused).
   */
  async activeJobs(exceptJob = 0): Promise<number> {
    const row = await this.db
      .selectFrom('job')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('kind', '=', 'gc.run')
      .where('status', 'in', ['pending', 'running'])
      .where('id', '!=', exceptJob)
      .where((eb) =>
        eb.or([
          eb('job.execution_id', 'is', null),
          eb(
            'job.execution_id',
            'not in',
            eb.selectFrom('execution').select('id').where('status', 'in', ['Success', 'Error']),
          ),
        ]),
      )
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The job (task) of an execution. */
  async jobOf(executionId: number): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('job')
      .select('id')
      .where('execution_id', '=', executionId)
      .orderBy('id')
      .executeTakeFirst();
    return row?.id;
  }
}

/** The mark itself: one statement, guarded on version, liveness and the absence of references. */
async function markRows(db: Kysely<Database>, blobs: GcBlob[], now: string): Promise<GcBlob[]> {
  if (blobs.length === 0) return [];
  return db
    .updateTable('blob')
    .set({ gc_mark: now })
    .where('gc_mark', 'is', null)
    .where((eb) => eb.or(blobs.map((b) => eb.and([eb('id', '=', b.id), eb('version', '=', b.version)]))))
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('artifact_blob')
            .select(sql.lit(1).as('one'))
            .whereRef('artifact_blob.blob_digest', '=', 'blob.digest'),
        ),
      ),
    )
    .returning(['id', 'digest', 'size', 'version', 'manifest'])
    .execute();
}
