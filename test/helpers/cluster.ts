import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type DbHandle } from '../../src/db/connect.js';
import { MetaStore } from '../../src/db/store.js';
import { spawnBerth, type BerthProcess } from './berth-process.js';
import { createDatabase } from './postgres.js';
import { cephTools, startS3Server, type RunningS3Server } from './s3-server.js';
import { hasTool, requireAll } from './tools.js';

/**
 * Several `berth serve` processes as one registry: one PostgreSQL database, one storage (a fresh bucket
 * of the S3 server when given, else the filesystem driver on a folder every node sees, as a shared
 * volume would be), and a scratch `--data` folder per node. The nodes start at once, so they race on the
 * migrations.
 */
export interface Cluster {
  nodes: BerthProcess[];
  databaseUrl: string;
  /** The shared folder (filesystem driver), or the bucket name (S3). */
  storage: string;
  /** A connection of the test's own to the cluster's database, for seeding and for looking. */
  store: MetaStore;
  db: DbHandle['db'];
  /** Starts one more node on the same database and storage. */
  addNode(env?: Record<string, string>): Promise<BerthProcess>;
  close(): Promise<void>;
}

export async function startCluster(options: {
  nodes: number;
  /** BERTH_* settings for every node. */
  env?: Record<string, string>;
  /** Settings of single nodes, by index (e.g. [{}, { BERTH_JOBS_WORKERS: '0' }]). */
  nodeEnv?: Record<string, string>[];
  /** The PostgreSQL server's admin URL (default: the test runner's BERTH_TEST_PG_URL). */
  adminUrl?: string;
  s3?: RunningS3Server;
}): Promise<Cluster> {
  const adminUrl = options.adminUrl ?? process.env.BERTH_TEST_PG_URL;
  if (!adminUrl) throw new Error('a cluster needs PostgreSQL: BERTH_TEST_PG_URL is not set');
  const databaseUrl = await createDatabase(adminUrl);
  const root = mkdtempSync(join(tmpdir(), 'berth-cluster-'));
  let storage = join(root, 'storage');
  let storageEnv: Record<string, string> = {
    BERTH_STORAGE_DRIVER: 'filesystem',
    BERTH_STORAGE_FILESYSTEM_ROOT: storage,
  };
  if (options.s3) {
    storage = await options.s3.createBucket();
    const o = options.s3.storageOptions(storage);
    storageEnv = {
      BERTH_STORAGE_DRIVER: 's3',
      BERTH_STORAGE_S3_BUCKET: o.bucket,
      BERTH_STORAGE_S3_REGION: o.region,
      BERTH_STORAGE_S3_ENDPOINT: o.endpoint,
      BERTH_STORAGE_S3_FORCE_PATH_STYLE: 'true',
      BERTH_STORAGE_S3_ACCESS_KEY_ID: o.accessKeyId,
      BERTH_STORAGE_S3_SECRET_ACCESS_KEY: o.secretAccessKey,
    };
  }
  const nodes: BerthProcess[] = [];
  let n = 0;
  // `slot` keeps the start order: nodes started at once finish starting in any order, and nodes[i] must be the
  // node that got nodeEnv[i].
  const addNode = async (env: Record<string, string> = {}, slot = nodes.length) => {
    const node = await spawnBerth({
      dataDir: join(root, `node-${n++}`),
      databaseUrl,
      // A loaded CI machine (2 cores, tests in parallel) can take a while to start a tsx process.
      startTimeoutMs: 120_000,
      env: {
        ...storageEnv,
        ...options.env,
        ...env,
      },
    });
    nodes[slot] = node;
    return node;
  };
  const handle = connect({ url: databaseUrl, poolMax: 4, acquireTimeoutMs: 5000 });
  try {
    await Promise.all(Array.from({ length: options.nodes }, (_, i) => addNode(options.nodeEnv?.[i], i)));
  } catch (err) {
    await Promise.all(nodes.map((p) => p.stop(0)));
    await handle.close();
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  return {
    nodes,
    databaseUrl,
    storage,
    store: new MetaStore(handle.db),
    db: handle.db,
    addNode,
    async close() {
      await Promise.all(nodes.map((p) => p.stop()));
      await handle.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * The cluster tests' storage: a real S3 server (Ceph RGW) when its tools are installed, which CI
 * requires; otherwise, on a developer's machine, undefined and the nodes share a folder.
 */
export async function clusterS3(): Promise<RunningS3Server | undefined> {
  if (!requireAll && !cephTools.every(hasTool)) return undefined;
  return startS3Server();
}
