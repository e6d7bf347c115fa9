import type { Kysely } from 'kysely';
import type { Database } from '../tables.js';

export class BlobRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Size of a blob when it is linked to the project, else undefined. */
  async sizeInProject(projectId: number, digest: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('blob')
      .innerJoin('project_blob', 'project_blob.blob_id', 'blob.id')
      .select('blob.size')
      .where('project_blob.project_id', '=', projectId)
      .where('blob.digest', '=', digest)
      .executeTakeFirst();
    return row?.size;
  }

  /** Digests among `digests` that are not linked to the project. */
  async missingInProject(projectId: number, digests: string[]): Promise<string[]> {
    if (digests.length === 0) return [];
    const rows = await this.db
      .selectFrom('blob')
      .innerJoin('project_blob', 'project_blob.blob_id', 'blob.id')
      .select('blob.digest')
      .where('project_blob.project_id', '=', projectId)
      .where('blob.digest', 'in', digests)
      .execute();
    const present = new Set(rows.map((r) => r.digest));
    return digests.filter((d) => !present.has(d));
  }

  async exists(digest: string): Promise<boolean> {
    return (
      (await this.db.selectFrom('blob').select('id').where('digest', '=', digest).executeTakeFirst()) !==
      undefined
    );
  }

  /** Records the blob (idempotent) and links it to the project. */
  async link(projectId: number, digest: string, size: number, now: string): Promise<void> {
    await this.db
      .insertInto('blob')
      .values({ digest, size, creation_time: now })
      .onConflict((oc) => oc.column('digest').doNothing())
      .execute();
    const blob = await this.db
      .selectFrom('blob')
      .select('id')
      .where('digest', '=', digest)
      .executeTakeFirstOrThrow();
    await this.db
      .insertInto('project_blob')
      .values({ project_id: projectId, blob_id: blob.id, creation_time: now })
      .onConflict((oc) => oc.columns(['project_id', 'blob_id']).doNothing())
      .execute();
  }

  async unlink(projectId: number, digest: string): Promise<boolean> {
    const blob = await this.db
      .selectFrom('blob')
      .select('id')
      .where('digest', '=', digest)
      .executeTakeFirst();
    if (!blob) return false;
    const res = await this.db
      .deleteFrom('project_blob')
      .where('project_id', '=', projectId)
      .where('blob_id', '=', blob.id)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** True when an artifact of the project references the blob. */
  async referencedInProject(projectId: number, digest: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('artifact_blob')
      .innerJoin('artifact', 'artifact.id', 'artifact_blob.artifact_id')
      .innerJoin('repository', 'repository.id', 'artifact.repository_id')
      .select('artifact.id')
      .where('artifact_blob.blob_digest', '=', digest)
      .where('repository.project_id', '=', projectId)
      .executeTakeFirst();
    return row !== undefined;
  }
}
