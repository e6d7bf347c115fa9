import type { Kysely } from 'kysely';
import { prepared } from '../prepared.js';
import type { ArtifactRow, Database, NewArtifact } from '../tables.js';

export interface ChildLink {
  childId: number;
  childDigest: string;
  platform: string | null;
}

export class ArtifactRepo {
  constructor(private readonly db: Kysely<Database>) {}

  findByDigest(repositoryId: number, digest: string): Promise<ArtifactRow | undefined> {
    return this.db
      .selectFrom('artifact')
      .selectAll()
      .where('repository_id', '=', repositoryId)
      .where('digest', '=', digest)
      .executeTakeFirst();
  }

  findByTag(repositoryId: number, tag: string): Promise<ArtifactRow | undefined> {
    return this.db
      .selectFrom('tag')
      .innerJoin('artifact', 'artifact.id', 'tag.artifact_id')
      .selectAll('artifact')
      .where('tag.repository_id', '=', repositoryId)
      .where('tag.name', '=', tag)
      .executeTakeFirst();
  }

  /** Digests among `digests` with no artifact in the repository. */
  async missing(repositoryId: number, digests: string[]): Promise<string[]> {
    if (digests.length === 0) return [];
    const rows = await this.db
      .selectFrom('artifact')
      .select(['digest'])
      .where('repository_id', '=', repositoryId)
      .where('digest', 'in', digests)
      .execute();
    const present = new Set(rows.map((r) => r.digest));
    return digests.filter((d) => !present.has(d));
  }

  /** Inserts the artifact unless the repository already has that digest; returns its row either way. */
  async ensure(values: NewArtifact, blobDigests: string[], children: ChildLink[]): Promise<ArtifactRow> {
    // Insert first: a push is nearly always of a new artifact, and a re-push reads the row it met.
    const v = values;
    const [inserted] = (
      await insertArtifact(
        this.db,
        v.repository_id,
        v.digest,
        v.media_type,
        v.artifact_type ?? null,
        v.manifest_size,
        v.size,
        v.subject_digest ?? null,
        v.config_digest ?? null,
        v.annotations ?? null,
        v.push_time,
        v.pull_time ?? null,
      )
    ).rows;
    // Pushed before, or lost a race with an identical push: the other writer's row stands.
    if (!inserted) return (await this.findByDigest(values.repository_id, values.digest))!;
    const unique = [...new Set(blobDigests)];
    if (unique.length > 0) {
      await insertArtifactBlobs(this.db, inserted.id, unique);
    }
    const seen = new Set<string>();
    const refs = children.filter((c) => !seen.has(c.childDigest) && seen.add(c.childDigest));
    if (refs.length > 0) {
      await this.db
        .insertInto('artifact_reference')
        .values(
          refs.map((c) => ({
            parent_id: inserted.id,
            child_id: c.childId,
            child_digest: c.childDigest,
            platform: c.platform,
          })),
        )
        .execute();
    }
    return inserted;
  }

  /** Artifacts whose subject is `subject`, optionally of one artifact type. */
  referrers(repositoryId: number, subject: string, artifactType?: string): Promise<ArtifactRow[]> {
    let q = this.db
      .selectFrom('artifact')
      .selectAll()
      .where('repository_id', '=', repositoryId)
      .where('subject_digest', '=', subject)
      .orderBy('id');
    if (artifactType !== undefined) q = q.where('artifact_type', '=', artifactType);
    return q.execute();
  }

  /** Digests of the indexes in the repository that list this artifact as a child. */
  async parents(artifactId: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('artifact_reference')
      .innerJoin('artifact', 'artifact.id', 'artifact_reference.parent_id')
      .select('artifact.digest')
      .where('artifact_reference.child_id', '=', artifactId)
      .execute();
    return rows.map((r) => r.digest);
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('artifact').where('id', '=', id).execute();
  }

  async recordPulls(times: Map<number, string>): Promise<void> {
    for (const [id, time] of times) {
      await this.db.updateTable('artifact').set({ pull_time: time }).where('id', '=', id).execute();
    }
  }
}

// A manifest PUT's statements, built and compiled once (db/prepared.ts).

const insertArtifact = prepared(
  (
    db,
    repository_id: number,
    digest: string,
    media_type: string,
    artifact_type: string | null,
    manifest_size: number,
    size: number,
    subject_digest: string | null,
    config_digest: string | null,
    annotations: string | null,
    push_time: string,
    pull_time: string | null,
  ) =>
    db
      .insertInto('artifact')
      .values({
        repository_id,
        digest,
        media_type,
        artifact_type,
        manifest_size,
        size,
        subject_digest,
        config_digest,
        annotations,
        push_time,
        pull_time,
      })
      .onConflict((oc) => oc.columns(['repository_id', 'digest']).doNothing())
      .returningAll(),
);

const insertArtifactBlobs = prepared((db, artifactId: number, digests: readonly string[]) =>
  db
    .insertInto('artifact_blob')
    .values(digests.map((blob_digest) => ({ artifact_id: artifactId, blob_digest }))),
);
