import { spawnSync } from 'node:child_process';
import { mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { freePort } from './ports.js';
import { hasTool } from './tools.js';

export interface PostgresServer {
  /** URL of the server's `postgres` database as superuser. */
  adminUrl: string;
  /**
   * Stops the server (`-m fast`: open connections are cut, as in a restart or failover), keeping its
   * data; `resume` starts it again. Not `immediate`: with synchronous_commit off (for speed) a crash
   * would lose the last commits.
   */
  halt(): void;
  resume(): void;
  stop(): Promise<void>;
}

/**
 * Starts a throwaway PostgreSQL server in a temp dir on a free port (initdb + pg_ctl as the `postgres`
 * system user via runuser, since PostgreSQL refuses to run as root).
 */
export async function startPostgres(): Promise<PostgresServer> {
  if (!hasTool('initdb') || !hasTool('pg_ctl'))
    throw new Error('initdb/pg_ctl not found (Debian package postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'berth-pg-'));
  chmodSync(dir, 0o777);
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    const full = asRoot
      ? (['runuser', ['-u', 'postgres', '--', cmd, ...args]] as const)
      : ([cmd, args] as const);
    const res = spawnSync(full[0], [...full[1]], { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`${cmd} failed: ${res.stderr || res.stdout}`);
  };
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', 'start']);
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    adminUrl,
    halt: () => run('pg_ctl', ['-D', data, '-m', 'fast', 'stop']),
    resume: () => run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', 'start']),
    async stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      } catch {
        // already halted
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Creates a fresh database on the server and returns its URL. */
export async function createDatabase(adminUrl: string): Promise<string> {
  const name = `berth_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  return adminUrl.replace(/\/postgres$/, `/${name}`);
}
