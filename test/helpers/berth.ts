import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type BerthApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import type { BerthConfigInput } from '../../src/config/schema.js';
import type { Clock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { createDatabase } from './postgres.js';

export type Backend = 'sqlite' | 'postgres';

/** The admin account every test Berth starts with (set through `admin.password`, as BERTH_ADMIN_PASSWORD). */
export const testAdmin = { username: 'admin', password: 'Berth-Test-12345' } as const;

export function basicAuth(creds: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}

export interface RunningBerth {
  app: BerthApp;
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** host:port, for docker-style references. */
  host: string;
  dataDir: string;
  backend: Backend;
  databaseUrl: string;
  admin: { username: string; password: string };
  /** Creates the project (idempotent), directly in the database: for set-up before the API exists. */
  createProject(name: string, options?: { public?: boolean }): Promise<number>;
  close(): Promise<void>;
}

export interface StartOptions {
  backend?: Backend;
  /** Reuse a data dir (and database) to simulate a restart. */
  dataDir?: string;
  databaseUrl?: string;
  overrides?: BerthConfigInput;
  /** A movable time source (src/lib/clock.ts), for tests that span days. */
  clock?: Clock;
}

/**
 * Backends to run a suite on: SQLite always; PostgreSQL when the test runner started a server
 * (BERTH_TEST_PG_URL). CI requires PostgreSQL.
 */
export function backends(): Backend[] {
  if (process.env.BERTH_TEST_PG_URL) return ['sqlite', 'postgres'];
  if (process.env.BERTH_REQUIRE_ALL === '1')
    throw new Error('BERTH_TEST_PG_URL is not set but BERTH_REQUIRE_ALL=1');
  return ['sqlite'];
}

/** Starts a real Berth on 127.0.0.1 and an ephemeral port, with its own temp data dir and database. */
export async function startBerth(options: StartOptions = {}): Promise<RunningBerth> {
  const backend = options.backend ?? 'sqlite';
  const ownDir = !options.dataDir;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'berth-test-'));
  let databaseUrl = options.databaseUrl;
  if (!databaseUrl && backend === 'postgres') {
    const admin = process.env.BERTH_TEST_PG_URL;
    if (!admin) throw new Error('BERTH_TEST_PG_URL is not set');
    databaseUrl = await createDatabase(admin);
  }
  const config = loadConfig({
    env: {},
    file: undefined,
    overrides: {
      ...options.overrides,
      // Scans at full speed: the suite keeps both cores busy, so the default would hold every scan back
      // (scanning.cpuShareWhenBusy; the tests of the governor set it).
      scanning: { cpuShareWhenBusy: 1, ...options.overrides?.scanning },
      // Deliveries at the process's priority, for the same reason: at SCHED_IDLE (the default) a delivery
      // thread on cores the suite keeps busy waits for its hand-over (webhooks.deliveryPriority; its own
      // tests cover it: src/services/webhooks/delivery-thread.test.ts).
      webhooks: { deliveryPriority: 'normal', ...options.overrides?.webhooks },
      admin: { password: testAdmin.password, ...options.overrides?.admin },
      server: { host: '127.0.0.1', port: 0, ...options.overrides?.server },
      data: { dir: dataDir },
      database: { ...options.overrides?.database, ...(databaseUrl ? { url: databaseUrl } : {}) },
    },
  });
  const logger = createLogger(process.env.BERTH_TEST_LOG ?? 'silent');
  const app = await buildApp(config, { logger, ...(options.clock ? { clock: options.clock } : {}) });
  const url = (await app.listen()).replace('localhost', '127.0.0.1');
  return {
    app,
    url,
    host: new URL(url).host,
    dataDir,
    backend,
    databaseUrl: config.database.url,
    admin: { username: testAdmin.username, password: config.admin.password ?? testAdmin.password },
    async createProject(name: string, opts: { public?: boolean } = {}) {
      const now = new Date().toISOString();
      const row = opts.public
        ? await app.store.projects.ensurePublic(name, now, null)
        : await app.store.projects.ensure(name, now);
      return row.id;
    },
    async close() {
      await app.close();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
