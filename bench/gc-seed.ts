/**
 * The GC bench's data set, written straight into storage rather than pushed (10 000 manifest PUTs would
 * take minutes and measure the push path, not GC): rows into the benched Berth's metadata database and
 * bytes into its filesystem tree, and the same content in distribution's filesystem layout
 * (registry/storage/paths.go: blobs/sha256/<xx>/<hex>/data; repositories/<name>/_layers,
 * _manifests/revisions and _manifests/tags links).
 *
 * Every artifact is an OCI image manifest over its own config, four layers of its own and its
 * repository's base layer (shared by every artifact of the repository). Every artifact was pushed with a
 * tag; the even-numbered ones were then deleted (rows gone, as Berth's artifact delete leaves them: the
 * blobs' rows and bytes stay for GC; in distribution: revision and tag links gone, blobs and layer links
 * stay, as its manifest DELETE leaves them).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sql } from 'kysely';
import { connect } from '../src/db/connect.js';
import { layout } from '../src/storage/layout.js';
import { pool } from './api.js';
import { blobChunks, configJson, sha256 } from './data.js';

export interface GcDataSet {
  projects: number;
  reposPerProject: number;
  artifactsPerRepo: number;
  /** Bytes of each layer (the bench is about object counts, not bytes). */
  layerBytes: number;
}

export interface GcSeedCounts {
  artifacts: number;
  deletedArtifacts: number;
  /** Config and layer blobs (manifests not included). */
  blobs: number;
  manifests: number;
  garbageBlobs: number;
  garbageManifests: number;
  garbageBytes: number;
  totalBytes: number;
}

interface SeedBlob {
  digest: string;
  body: Buffer;
  manifest: boolean;
}

interface SeedArtifact {
  repo: string;
  tag: string;
  deleted: boolean;
  manifest: SeedBlob;
  /** Config, base layer, own layers. */
  refs: SeedBlob[];
  configDigest: string;
}

const ociManifest = 'application/vnd.oci.image.manifest.v1+json';
const ociConfig = 'application/vnd.oci.image.config.v1+json';
const ociLayer = 'application/vnd.oci.image.layer.v1.tar+gzip';

function bytes(seed: number, size: number): Buffer {
  return Buffer.concat([...blobChunks(seed, size)]);
}

function blobOf(body: Buffer, manifest = false): SeedBlob {
  return { digest: sha256(body), body, manifest };
}

/** The artifacts of one repository (`r` numbers repositories across projects). */
function repoArtifacts(set: GcDataSet, project: string, r: number): SeedArtifact[] {
  const repo = `${project}/app-${r}`;
  const base = blobOf(bytes(9_000_000 + r, set.layerBytes));
  const out: SeedArtifact[] = [];
  for (let a = 0; a < set.artifactsPerRepo; a++) {
    const n = r * set.artifactsPerRepo + a;
    const config = blobOf(configJson(1_000_000 + n));
    const own = [0, 1, 2, 3].map((k) => blobOf(bytes(10_000_000 + n * 4 + k, set.layerBytes)));
    const layers = [base, ...own];
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: ociManifest,
        config: { mediaType: ociConfig, digest: config.digest, size: config.body.length },
        layers: layers.map((l) => ({ mediaType: ociLayer, digest: l.digest, size: l.body.length })),
      }),
    );
    out.push({
      repo,
      tag: `v${a}`,
      deleted: a % 2 === 0,
      manifest: blobOf(body, true),
      refs: [config, ...layers],
      configDigest: config.digest,
    });
  }
  return out;
}

function uniqueBlobs(artifacts: SeedArtifact[]): SeedBlob[] {
  const seen = new Map<string, SeedBlob>();
  for (const a of artifacts) for (const b of [a.manifest, ...a.refs]) seen.set(b.digest, b);
  return [...seen.values()];
}

async function put(file: string, body: Buffer | string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, body);
}

/**
 * Seeds Berth's database (SQLite file `dbFile`, migrated, with the projects already created through the
 * API) and its filesystem blob root, and the same content under `distRoot` in distribution's layout.
 * Blob rows are dated two days back, so no grace period keeps them. Returns the counts and the seconds
 * each side took.
 */
export async function seedGcDataSet(
  set: GcDataSet,
  projectIds: Map<string, number>,
  target: { dbFile: string; blobRoot: string; distRoot: string },
): Promise<{ counts: GcSeedCounts; berthSeconds: number; distributionSeconds: number }> {
  const old = new Date(Date.now() - 2 * 86_400_000).toISOString();
  const referenced = new Date(Date.now() - 2 * 86_400_000 + 1000).toISOString();
  const counts: GcSeedCounts = {
    artifacts: 0,
    deletedArtifacts: 0,
    blobs: 0,
    manifests: 0,
    garbageBlobs: 0,
    garbageManifests: 0,
    garbageBytes: 0,
    totalBytes: 0,
  };
  const db = connect({ url: `sqlite:${target.dbFile}`, poolMax: 1, acquireTimeoutMs: 30_000 });
  const v2 = join(target.distRoot, 'docker/registry/v2');
  let berthMs = 0;
  let distMs = 0;
  try {
    let r = 0;
    for (const [project, projectId] of projectIds) {
      for (let k = 0; k < set.reposPerProject; k++, r++) {
        const artifacts = repoArtifacts(set, project, r);
        const blobs = uniqueBlobs(artifacts);
        const live = new Set(artifacts.filter((a) => !a.deleted).flatMap((a) => [a.manifest, ...a.refs]));
        counts.artifacts += artifacts.length;
        counts.deletedArtifacts += artifacts.filter((a) => a.deleted).length;
        for (const b of blobs) {
          counts[b.manifest ? 'manifests' : 'blobs']++;
          counts.totalBytes += b.body.length;
          if (live.has(b)) continue;
          counts[b.manifest ? 'garbageManifests' : 'garbageBlobs']++;
          counts.garbageBytes += b.body.length;
        }

        let t0 = performance.now();
        await seedBerthRepo(db.db, projectId, artifacts, blobs, old, referenced);
        await pool(16, blobs.length, async (i) => {
          const b = blobs[i]!;
          await put(join(target.blobRoot, layout.blob(b.digest)), b.body);
        });
        berthMs += performance.now() - t0;

        t0 = performance.now();
        await seedDistributionRepo(v2, artifacts, blobs);
        distMs += performance.now() - t0;
      }
    }
  } finally {
    await db.close();
  }
  return { counts, berthSeconds: berthMs / 1000, distributionSeconds: distMs / 1000 };
}

type Db = ReturnType<typeof connect>['db'];

/** One repository's rows: every artifact pushed (blobs, links, artifacts, tags), then the deleted ones gone. */
async function seedBerthRepo(
  db: Db,
  projectId: number,
  artifacts: SeedArtifact[],
  blobs: SeedBlob[],
  old: string,
  referenced: string,
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const repo = await tx
      .insertInto('repository')
      .values({
        project_id: projectId,
        name: artifacts[0]!.repo,
        description: '',
        creation_time: old,
        update_time: old,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const ids = new Map<string, number>();
    for (let i = 0; i < blobs.length; i += 200) {
      const rows = await tx
        .insertInto('blob')
        .values(
          blobs.slice(i, i + 200).map((b) => ({
            digest: b.digest,
            size: b.body.length,
            creation_time: old,
            touch_time: old,
            ref_time: referenced,
            version: 2,
            manifest: b.manifest ? 1 : 0,
          })),
        )
        .returning(['id', 'digest'])
        .execute();
      for (const row of rows) ids.set(row.digest, row.id);
      await tx
        .insertInto('project_blob')
        .values(rows.map((row) => ({ project_id: projectId, blob_id: row.id, creation_time: old })))
        .execute();
    }
    const deleted: number[] = [];
    for (const a of artifacts) {
      const refs = [a.manifest, ...a.refs];
      const row = await tx
        .insertInto('artifact')
        .values({
          repository_id: repo.id,
          digest: a.manifest.digest,
          media_type: ociManifest,
          artifact_type: ociConfig,
          manifest_size: a.manifest.body.length,
          size: refs.reduce((n, b) => n + b.body.length, 0),
          subject_digest: null,
          config_digest: a.configDigest,
          annotations: null,
          push_time: old,
          pull_time: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await tx
        .insertInto('artifact_blob')
        .values(refs.map((b) => ({ artifact_id: row.id, blob_digest: b.digest })))
        .execute();
      await tx
        .insertInto('tag')
        .values({ repository_id: repo.id, artifact_id: row.id, name: a.tag, push_time: old, pull_time: null })
        .execute();
      if (a.deleted) deleted.push(row.id);
    }
    // The delete: artifact rows (tags and references cascade) and the project links of blobs no artifact
    // of the project references any more; blob rows and bytes are GC's.
    await tx.deleteFrom('artifact').where('id', 'in', deleted).execute();
    await sql`delete from project_blob where project_id = ${projectId} and not exists (
      select 1 from artifact_blob ab join blob b on b.digest = ab.blob_digest where b.id = project_blob.blob_id)`.execute(
      tx,
    );
    if (ids.size !== blobs.length) throw new Error('a seeded blob has no row');
    const kept = await tx
      .selectFrom('project_blob')
      .innerJoin('blob', 'blob.id', 'project_blob.blob_id')
      .select((eb) => eb.fn.sum<number>('blob.size').as('n'))
      .where('project_blob.project_id', '=', projectId)
      .executeTakeFirstOrThrow();
    await tx
      .updateTable('quota')
      .set({ used_storage: Number(kept.n ?? 0) })
      .where('project_id', '=', projectId)
      .execute();
  });
}

/** One repository in distribution's layout: every blob and layer link; revisions and tags of the live artifacts. */
async function seedDistributionRepo(v2: string, artifacts: SeedArtifact[], blobs: SeedBlob[]): Promise<void> {
  const repoDir = join(v2, 'repositories', artifacts[0]!.repo);
  const hex = (d: string) => d.slice('sha256:'.length);
  const files: [string, Buffer | string][] = [];
  for (const b of blobs) {
    files.push([join(v2, 'blobs/sha256', hex(b.digest).slice(0, 2), hex(b.digest), 'data'), b.body]);
    if (!b.manifest) files.push([join(repoDir, '_layers/sha256', hex(b.digest), 'link'), b.digest]);
  }
  for (const a of artifacts) {
    if (a.deleted) continue;
    const d = a.manifest.digest;
    files.push([join(repoDir, '_manifests/revisions/sha256', hex(d), 'link'), d]);
    files.push([join(repoDir, '_manifests/tags', a.tag, 'current/link'), d]);
    files.push([join(repoDir, '_manifests/tags', a.tag, 'index/sha256', hex(d), 'link'), d]);
  }
  await pool(16, files.length, async (i) => {
    const [file, body] = files[i]!;
    await put(file, body);
  });
}
