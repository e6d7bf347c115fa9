import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { connect } from '../../../src/db/connect.js';
import { MetaStore } from '../../../src/db/store.js';
import { backends } from '../../helpers/berth.js';
import { createDatabase } from '../../helpers/postgres.js';
import { waitFor } from '../../helpers/wait.js';

const main = fileURLToPath(new URL('../../../src/main.ts', import.meta.url));
const repo = fileURLToPath(new URL('../../..', import.meta.url));

function spawnWorker(dataDir: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'worker', '--data', dataDir], {
    cwd: repo,
    env: { PATH: process.env.PATH ?? '', BERTH_LOG_LEVEL: 'info', BERTH_JOBS_POLL_INTERVAL_MS: '50', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited, output: () => out };
}

for (const backend of backends()) {
  describe(`berth worker on ${backend}`, () => {
    test('runs jobs without serving HTTP: an enqueued upload.purge removes a stale session; SIGTERM exits 0', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'berth-worker-'));
      const url =
        backend === 'postgres'
          ? await createDatabase(process.env.BERTH_TEST_PG_URL!)
          : `sqlite:${join(dataDir, 'berth.db')}`;
      const worker = spawnWorker(dataDir, {
        BERTH_DATABASE_URL: url,
        BERTH_REGISTRY_UPLOAD_MAX_IDLE_HOURS: '1',
      });
      const handle = connect({ url, poolMax: 2, acquireTimeoutMs: 5000 });
      try {
        await waitFor('the worker to start', () => /Berth worker is running/.test(worker.output()), 90_000);
        assert.doesNotMatch(worker.output(), /Berth is serving/);
        const store = new MetaStore(handle.db);
        const old = '2020-01-01T00:00:00.000Z';
        const project = await store.projects.ensure('purged', old);
        await store.uploads.create({
          id: 'stale-session',
          repository_name: 'purged/app',
          project_id: project.id,
          size: 0,
          creation_time: old,
          update_time: old,
        });
        const now = new Date().toISOString();
        const id = await store.jobs.insert(
          { kind: 'upload.purge', payload: '{}', maxAttempts: 3, runAfter: now },
          now,
        );
        const job = await waitFor('upload.purge to succeed', async () => {
          const row = await store.jobs.find(id);
          return row?.status === 'succeeded' && row;
        });
        assert.match(job.lease_owner!, new RegExp(`:${worker.child.pid}:`));
        assert.equal(await store.uploads.find('stale-session'), undefined);
        const lines = (await store.jobs.logs(id)).map((l) => l.line);
        assert.ok(lines.includes('purged 1 upload session(s) idle for more than 1 h'), lines.join('\n'));
        assert.ok(await store.schedules.findByName('upload.purge'), 'the hourly purge is scheduled');
        worker.child.kill('SIGTERM');
        assert.equal(await worker.exited, 0, worker.output());
      } finally {
        worker.child.kill('SIGKILL');
        await handle.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
}

test('berth worker refuses jobs.workers=0 with a message naming the key', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-worker-'));
  try {
    const worker = spawnWorker(dataDir, { BERTH_JOBS_WORKERS: '0' });
    assert.equal(await worker.exited, 2);
    assert.match(worker.output(), /jobs\.workers is 0/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
