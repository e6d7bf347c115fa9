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
import { performance } from 'node:perf_hooks';
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

/** Bounded concurrency for file writes: enough to keep the thread pool busy, few enough to stay polite. */
const fileWriters = 32;

/** Writes `files` with `fileWriters` at once; each file's folder is created first (mkdir -p: one call when its parent exists). */
async function writeFiles(files: [string, Buffer | string][]): Promise<void> {
  await pool(fileWriters, files.length, async (i) => {
    const [file, body] = files[i]!;
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, body);
  });
}

/** Runs one phase of the seeding (the bench times and prints each). */
export type Phase = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

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
  phase: Phase = (_name, fn) => fn(),
): Promise<{ counts: GcSeedCounts; berthSeconds: number; distributionSeconds: number }> {
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
  const repos: SeedRepo[] = [];
  await phase('generate the data set', async () => {
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
        repos.push({ projectId, name: artifacts[0]!.repo, artifacts, blobs });
      }
    }
  });

  const t0 = performance.now();
  await phase('seed Berth: rows', () => seedBerthRows(target.dbFile, repos));
  await phase('seed Berth: files', () =>
    writeFiles(
      repos.flatMap((r) =>
        r.blobs.map((b): [string, Buffer] => [join(target.blobRoot, layout.blob(b.digest)), b.body]),
      ),
    ),
  );
  const berthSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await phase("seed distribution's layout", () =>
    writeFiles(repos.flatMap((r) => distributionFiles(join(target.distRoot, 'docker/registry/v2'), r))),
  );
  return { counts, berthSeconds, distributionSeconds: (performance.now() - t1) / 1000 };
}

interface SeedRepo {
  projectId: number;
  name: string;
  artifacts: SeedArtifact[];
  blobs: SeedBlob[];
}

/** Rows per insert statement (SQLite allows 32,766 parameters; the widest row here has 11 columns). */
const rowsPerInsert = 1000;

async function insertChunked<T>(rows: T[], insert: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += rowsPerInsert) await insert(rows.slice(i, i + rowsPerInsert));
}

/**
 * Every repository's rows in one transaction, many rows per statement: every artifact pushed (blobs,
 * project links, artifacts, references, tags), then the deleted ones gone as Berth's delete leaves them.
 */
async function seedBerthRows(dbFile: string, repos: SeedRepo[]): Promise<void> {
  const old = new Date(Date.now() - 2 * 86_400_000).toISOString();
  const referenced = new Date(Date.now() - 2 * 86_400_000 + 1000).toISOString();
  const { db, close } = connect({ url: `sqlite:${dbFile}`, poolMax: 1, acquireTimeoutMs: 30_000 });
  try {
    await db.transaction().execute(async (tx) => {
      const repoIds = new Map<string, number>();
      for (const row of await tx
        .insertInto('repository')
        .values(
          repos.map((r) => ({
            project_id: r.projectId,
            name: r.name,
            description: '',
            creation_time: old,
            update_time: old,
          })),
        )
        .returning(['id', 'name'])
        .execute())
        repoIds.set(row.name, row.id);

      const blobs = repos.flatMap((r) => r.blobs.map((b) => ({ b, projectId: r.projectId })));
      await insertChunked(blobs, async (chunk) => {
        const rows = await tx
          .insertInto('blob')
          .values(
            chunk.map(({ b }) => ({
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
        // RETURNING's row order is unspecified: match rows by digest.
        const ids = new Map(rows.map((row) => [row.digest, row.id]));
        if (ids.size !== chunk.length) throw new Error('a seeded blob has no row');
        await tx
          .insertInto('project_blob')
          .values(
            chunk.map(({ b, projectId }) => ({
              project_id: projectId,
              blob_id: ids.get(b.digest)!,
              creation_time: old,
            })),
          )
          .execute();
      });

      const artifacts = repos.flatMap((r) => r.artifacts.map((a) => ({ a, repoId: repoIds.get(r.name)! })));
      const deleted: number[] = [];
      await insertChunked(artifacts, async (chunk) => {
        const rows = await tx
          .insertInto('artifact')
          .values(
            chunk.map(({ a, repoId }) => ({
              repository_id: repoId,
              digest: a.manifest.digest,
              media_type: ociManifest,
              artifact_type: ociConfig,
              manifest_size: a.manifest.body.length,
              size: [a.manifest, ...a.refs].reduce((n, b) => n + b.body.length, 0),
              subject_digest: null,
              config_digest: a.configDigest,
              annotations: null,
              push_time: old,
              pull_time: null,
            })),
          )
          .returning(['id', 'digest'])
          .execute();
        // Every seeded manifest is unique, so its digest names its row.
        const ids = new Map(rows.map((row) => [row.digest, row.id]));
        const idOf = (a: SeedArtifact) => ids.get(a.manifest.digest)!;
        const refs = chunk.flatMap(({ a }) =>
          [a.manifest, ...a.refs].map((b) => ({ artifact_id: idOf(a), blob_digest: b.digest })),
        );
        await insertChunked(refs, (c) => tx.insertInto('artifact_blob').values(c).execute());
        await tx
          .insertInto('tag')
          .values(
            chunk.map(({ a, repoId }) => ({
              repository_id: repoId,
              artifact_id: idOf(a),
              name: a.tag,
              push_time: old,
              pull_time: null,
            })),
          )
          .execute();
        for (const { a } of chunk) if (a.deleted) deleted.push(idOf(a));
      });

      // The delete: artifact rows (tags and references cascade) and the project links of blobs no artifact
      // of the project references any more; blob rows and bytes are GC's.
      await insertChunked(deleted, (ids) => tx.deleteFrom('artifact').where('id', 'in', ids).execute());
      await sql`delete from project_blob where not exists (
        select 1 from artifact_blob ab join blob b on b.digest = ab.blob_digest where b.id = project_blob.blob_id)`.execute(
        tx,
      );
      await sql`update quota set used_storage = coalesce((select sum(b.size) from project_blob pb
        join blob b on b.id = pb.blob_id where pb.project_id = quota.project_id), 0)`.execute(tx);
    });
  } finally {
    await close();
  }
}

/** One repository in distribution's layout: every blob and layer link; revisions and tags of the live artifacts. */
function distributionFiles(v2: string, r: SeedRepo): [string, Buffer | string][] {
  const repoDir = join(v2, 'repositories', r.name);
  const hex = (d: string) => d.slice('sha256:'.length);
  const files: [string, Buffer | string][] = [];
  for (const b of r.blobs) {
    files.push([join(v2, 'blobs/sha256', hex(b.digest).slice(0, 2), hex(b.digest), 'data'), b.body]);
    if (!b.manifest) files.push([join(repoDir, '_layers/sha256', hex(b.digest), 'link'), b.digest]);
  }
  for (const a of r.artifacts) {
    if (a.deleted) continue;
    const d = a.manifest.digest;
    files.push([join(repoDir, '_manifests/revisions/sha256', hex(d), 'link'), d]);
    files.push([join(repoDir, '_manifests/tags', a.tag, 'current/link'), d]);
    files.push([join(repoDir, '_manifests/tags', a.tag, 'index/sha256', hex(d), 'link'), d]);
  }
  return files;
}
