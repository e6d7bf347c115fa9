import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { BerthConfigInput } from '../../src/config/schema.js';
import { connect } from '../../src/db/connect.js';
import { layout } from '../../src/storage/layout.js';
import type { RunningBerth } from './berth.js';
import type { HarborApi } from './harbor-api.js';
import { digestOf, type RegistryClient } from './registry-client.js';
import { startS3Server, type RunningS3Server } from './s3-server.js';
import { waitFor } from './wait.js';

export interface GcRunView {
  id: number;
  job_status: string;
  job_kind: string;
  /** The parsed job_parameters: parameters and the run's figures. */
  attrs: Record<string, number | boolean>;
}

/** Starts a garbage collection (POST /system/gc/schedule, type Manual); returns its id. */
export async function startGc(
  api: HarborApi,
  parameters: { delete_untagged?: boolean; dry_run?: boolean; workers?: number } = {},
): Promise<number> {
  const res = await api.expect(201, 'POST', '/system/gc/schedule', {
    schedule: { type: 'Manual' },
    parameters,
  });
  const location = res.headers.get('location');
  assert.ok(location, 'a manual GC answers its Location');
  return Number(location.split('/').pop());
}

/** Waits for run `id` to end (Success, Error or Stopped) and returns it. */
export async function finishedGc(api: HarborApi, id: number, timeoutMs = 60_000): Promise<GcRunView> {
  return waitFor(
    `garbage collection ${id} to end`,
    async () => {
      const { body } = await api.expect<{
        id: number;
        job_status: string;
        job_kind: string;
        job_parameters: string;
      }>(200, 'GET', `/system/gc/${id}`);
      if (!['Success', 'Error', 'Stopped'].includes(body.job_status)) return undefined;
      return { ...body, attrs: JSON.parse(body.job_parameters) as GcRunView['attrs'] };
    },
    timeoutMs,
    50,
  );
}

/** Runs a garbage collection to its end; asserts it succeeded. */
export async function runGc(
  api: HarborApi,
  parameters: { delete_untagged?: boolean; dry_run?: boolean; workers?: number } = {},
): Promise<GcRunView> {
  const run = await finishedGc(api, await startGc(api, parameters));
  assert.equal(run.job_status, 'Success', `GC ${run.id}: ${JSON.stringify(run)}`);
  return run;
}

/** GETs a blob: its status, and whether the bytes hash to the digest. */
export async function pullBlob(
  client: RegistryClient,
  repo: string,
  digest: string,
): Promise<{ status: number; intact: boolean }> {
  const res = await client.fetch(`/v2/${repo}/blobs/${digest}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, intact: res.status === 200 && digestOf(bytes) === digest };
}

/**
 * Inserts `count` unreferenced blob rows last touched long ago (garbage for any grace period), straight
 * into the database: a large sweep for tests and the bench, in seconds. Their bytes do not exist, which
 * GC takes as already gone. Returns how many.
 */
export async function seedGarbageRows(databaseUrl: string, count: number): Promise<number> {
  const handle = connect({ url: databaseUrl, poolMax: 2, acquireTimeoutMs: 30_000 });
  try {
    const old = '2000-01-01T00:00:00.000Z';
    for (let done = 0; done < count;) {
      const n = Math.min(1000, count - done);
      await handle.db
        .insertInto('blob')
        .values(
          Array.from({ length: n }, () => ({
            digest: `sha256:${randomBytes(32).toString('hex')}`,
            size: 1,
            creation_time: old,
            touch_time: old,
          })),
        )
        .execute();
      done += n;
    }
    return count;
  } finally {
    await handle.close();
  }
}

/** Counts blob rows: all of them, and those marked for deletion. */
export async function blobRows(databaseUrl: string): Promise<{ total: number; marked: number }> {
  const handle = connect({ url: databaseUrl, poolMax: 1, acquireTimeoutMs: 30_000 });
  try {
    const row = await handle.db
      .selectFrom('blob')
      .select((eb) => [eb.fn.countAll<number>().as('total'), eb.fn.count<number>('gc_mark').as('marked')])
      .executeTakeFirstOrThrow();
    return { total: Number(row.total), marked: Number(row.marked) };
  } finally {
    await handle.close();
  }
}

/** Where a Berth under test keeps blob bytes, as GC's tests look at them. */
export interface GcStorage {
  name: 'filesystem' | 's3';
  /** Config overrides for a fresh store (S3: a new bucket of the file's server, started on first use). */
  overrides(): Promise<BerthConfigInput>;
  /** Whether the bytes of `digest` are in the store of the Berth made from the last overrides(). */
  has(berth: RunningBerth, digest: string): Promise<boolean>;
}

/**
 * The storages GC's byte-touching tests run on: the filesystem driver, and S3 on one real Ceph RGW per
 * test file (one bucket per Berth), stopped when the file's tests end.
 */
export function gcStorages(): GcStorage[] {
  let server: Promise<RunningS3Server> | undefined;
  let bucket = '';
  after(async () => (await server?.catch(() => undefined))?.stop());
  return [
    {
      name: 'filesystem',
      overrides: async () => ({}),
      has: async (berth, digest) => existsSync(join(berth.dataDir, 'blobs', layout.blob(digest))),
    },
    {
      name: 's3',
      async overrides() {
        server ??= startS3Server();
        const s3 = await server;
        bucket = await s3.createBucket();
        return { storage: { driver: 's3', s3: s3.storageOptions(bucket) } } as BerthConfigInput;
      },
      async has(_berth, digest) {
        const s3 = await server!;
        try {
          await s3.client().send(new HeadObjectCommand({ Bucket: bucket, Key: layout.blob(digest) }));
          return true;
        } catch (err) {
          if ((err as { name?: string }).name === 'NotFound') return false;
          throw err;
        }
      },
    },
  ];
}
