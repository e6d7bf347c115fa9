import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type DbHandle } from '../../src/db/connect.js';
import { MetaStore } from '../../src/db/store.js';
import { spawnBerth, type BerthProcess } from './berth-process.js';
import { createDatabase } from './postgres.js';

/**
 * Several `berth serve` processes as one registry: one PostgreSQL database, one shared storage folder
 * (the filesystem driver on a directory every node sees, as a shared volume would be), and a scratch
 * `--data` folder per node. The nodes start at once, so they race on the migrations.
 */
export interface Cluster {
  nodes: BerthProcess[];
  databaseUrl: string;
  storageDir: string;
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
  /** The PostgreSQL server's admin URL (default: the test runner's BERTH_TEST_PG_URL). */
  adminUrl?: string;
}): Promise<Cluster> {
  const adminUrl = options.adminUrl ?? process.env.BERTH_TEST_PG_URL;
  if (!adminUrl) throw new Error('a cluster needs PostgreSQL: BERTH_TEST_PG_URL is not set');
  const databaseUrl = await createDatabase(adminUrl);
  const root = mkdtempSync(join(tmpdir(), 'berth-cluster-'));
  const storageDir = join(root, 'storage');
  const nodes: BerthProcess[] = [];
  let n = 0;
  const addNode = async (env: Record<string, string> = {}) => {
    const node = await spawnBerth({
      dataDir: join(root, `node-${n++}`),
      databaseUrl,
      // A loaded CI machine (2 cores, tests in parallel) can take a while to start a tsx process.
      startTimeoutMs: 120_000,
      env: {
        BERTH_STORAGE_DRIVER: 'filesystem',
        BERTH_STORAGE_FILESYSTEM_ROOT: storageDir,
        ...options.env,
        ...env,
      },
    });
    nodes.push(node);
    return node;
  };
  const handle = connect({ url: databaseUrl, poolMax: 4, acquireTimeoutMs: 5000 });
  try {
    await Promise.all(Array.from({ length: options.nodes }, () => addNode()));
  } catch (err) {
    await Promise.all(nodes.map((p) => p.stop(0)));
    await handle.close();
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  return {
    nodes,
    databaseUrl,
    storageDir,
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
