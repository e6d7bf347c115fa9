import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type DbHandle, type Dialect } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { MetaStore } from '../../src/db/store.js';
import type { ArtifactRow } from '../../src/db/tables.js';
import { digestOf } from '../../src/oci/digest.js';
import { createDatabase } from './postgres.js';

/**
 * Dialects a repo or migration test runs on: SQLite always; PostgreSQL when the test runner started a
 * server (BERTH_TEST_PG_URL). Under BERTH_REQUIRE_ALL=1 (CI) a missing server is a failure.
 */
export function testDialects(): Dialect[] {
  if (process.env.BERTH_TEST_PG_URL) return ['sqlite', 'postgres'];
  if (process.env.BERTH_REQUIRE_ALL === '1')
    throw new Error('BERTH_TEST_PG_URL is not set but BERTH_REQUIRE_ALL=1');
  return ['sqlite'];
}

export interface TestDatabase {
  url: string;
  /** Opens a connection (pool) to the database; several may be open at once. */
  open(poolMax?: number): DbHandle;
  /** Closes every handle opened here and removes the SQLite file. */
  close(): Promise<void>;
}

/** A new, empty database: a temp SQLite file, or a fresh database on the test PostgreSQL server. */
export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  let dir: string | undefined;
  let url: string;
  if (dialect === 'sqlite') {
    dir = mkdtempSync(join(tmpdir(), 'berth-db-'));
    url = `sqlite:${join(dir, 'berth.db')}`;
  } else {
    const admin = process.env.BERTH_TEST_PG_URL;
    if (!admin) throw new Error('BERTH_TEST_PG_URL is not set');
    url = await createDatabase(admin);
  }
  const handles: DbHandle[] = [];
  return {
    url,
    open(poolMax = 10) {
      const handle = connect({ url, poolMax, acquireTimeoutMs: 5000 });
      handles.push(handle);
      return handle;
    },
    async close() {
      await Promise.all(handles.map((h) => h.close()));
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A migrated test database and the MetaStore over it. */
export async function createTestStore(
  dialect: Dialect,
): Promise<{ store: MetaStore; database: TestDatabase }> {
  const database = await createTestDatabase(dialect);
  const handle = database.open();
  await migrateToLatest(handle.db as never, dialect);
  return { store: new MetaStore(handle.db), database };
}

/** A bare image manifest's artifact row in `repositoryId`, its digest made from `seed`; no blobs. */
export function addArtifact(
  store: MetaStore,
  repositoryId: number,
  seed: string,
  now: string,
): Promise<ArtifactRow> {
  return store.artifacts.ensure(
    {
      repository_id: repositoryId,
      digest: digestOf(seed),
      media_type: 'application/vnd.oci.image.manifest.v1+json',
      artifact_type: null,
      manifest_size: 10,
      size: 10,
      subject_digest: null,
      config_digest: null,
      annotations: null,
      push_time: now,
      pull_time: null,
    },
    [],
    [],
  );
}
