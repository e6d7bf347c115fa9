// `berth serve --workers 2`: two HTTP processes on one port behave as one Berth. Each worker accepts new
// connections on the shared socket, so a request on a connection of its own lands on either worker, and
// X-Berth-Worker names which. Run on SQLite (the embedded database shared by both processes) and
// on PostgreSQL.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { Agent, request } from 'undici';
import { connect, type DbHandle } from '../../../src/db/connect.js';
import { backends, basicAuth } from '../../helpers/berth.js';
import { spawnBerth, type BerthProcess } from '../../helpers/berth-process.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { createDatabase } from '../../helpers/postgres.js';
import { makeImage, type Manifest } from '../../helpers/registry-client.js';
import { waitFor } from '../../helpers/wait.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The pid in X-Berth-Worker. */
  worker: number;
}

/** One request on a connection of its own (closed after it), so the cluster picks a worker for it. */
async function fresh(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<Answer> {
  // A hung answer fails the test in seconds rather than at undici's five-minute default.
  const agent = new Agent({ headersTimeout: 20_000, bodyTimeout: 20_000 });
  try {
    const res = await request(url, {
      method: (init.method ?? 'GET') as 'GET',
      headers: init.headers ?? {},
      ...(init.body !== undefined ? { body: init.body } : {}),
      dispatcher: agent,
    });
    const body = Buffer.from(await res.body.arrayBuffer());
    return {
      status: res.statusCode,
      headers: res.headers,
      body,
      worker: Number(res.headers['x-berth-worker']),
    };
  } finally {
    await agent.close();
  }
}

/** Sends `send` on fresh connections until one lands on a worker `wanted` accepts; returns that answer. */
async function onWorker(
  what: string,
  wanted: (pid: number) => boolean,
  send: () => Promise<Answer>,
  timeoutMs = 60_000,
): Promise<Answer> {
  return waitFor(
    what,
    async () => {
      const a = await send();
      return wanted(a.worker) && a;
    },
    timeoutMs,
    0,
  );
}

for (const backend of backends()) {
  describe(`berth serve --workers 2 on ${backend}`, () => {
    let berth: BerthProcess;
    let dir: string;
    let db: DbHandle;
    let admin: { username: string; password: string };
    let api: HarborApi;
    let workers: number[];
    const auth = () => ({ authorization: basicAuth(admin) });

    /** Pushes an image over fresh connections (blobs then manifest); the workers that took its requests. */
    const push = async (repo: string, image: Manifest, tag: string) => {
      const took = new Set<number>();
      for (const blob of image.blobs) {
        const res = await fresh(`${berth.url}/v2/${repo}/blobs/uploads/?digest=${blob.digest}`, {
          method: 'POST',
          headers: { ...auth(), 'content-type': 'application/octet-stream' },
          body: blob.bytes,
        });
        assert.equal(res.status, 201, res.body.toString());
        took.add(res.worker);
      }
      const put = await fresh(`${berth.url}/v2/${repo}/manifests/${tag}`, {
        method: 'PUT',
        headers: { ...auth(), 'content-type': image.mediaType },
        body: image.bytes,
      });
      assert.equal(put.status, 201, put.body.toString());
      return { manifest: put.worker, took: took.add(put.worker) };
    };

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'berth-workers-'));
      const databaseUrl =
        backend === 'postgres' ? await createDatabase(process.env.BERTH_TEST_PG_URL!) : undefined;
      berth = await spawnBerth({
        dataDir: join(dir, 'data'),
        ...(databaseUrl ? { databaseUrl } : {}),
        workers: 2,
        // Three tsx processes starting on a loaded 2-core machine.
        startTimeoutMs: 240_000,
        // No admin password given: the first start makes one and prints it.
        env: { BERTH_ADMIN_PASSWORD: '', BERTH_JOBS_POLL_INTERVAL_MS: '100' },
      });
      db = connect({
        url: databaseUrl ?? `sqlite:${join(dir, 'data', 'berth.db')}`,
        poolMax: 2,
        acquireTimeoutMs: 5000,
      });
      const password = /with the password: (\S+)/.exec(berth.output())?.[1];
      assert.ok(password, `no admin password printed:\n${berth.output()}`);
      admin = { username: 'admin', password };
      api = new HarborApi(berth.url, admin);
      const seen = new Set<number>();
      await waitFor(
        'both workers to answer',
        async () => {
          seen.add((await fresh(`${berth.url}/v2/`)).worker);
          return seen.size === 2;
        },
        240_000,
        50,
      );
      workers = [...seen];
      await api.expect(201, 'POST', '/projects', { project_name: 'workers', metadata: { public: 'false' } });
    });
    after(async () => {
      await berth?.stop();
      await db?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('prints the generated admin password once, not once per worker', () => {
      assert.equal(berth.output().match(/Berth created the user "admin"/g)?.length, 1);
    });

    it('serves from two worker processes, neither of them the primary, each with at most 2 malloc arenas', () => {
      assert.equal(workers.length, 2);
      assert.ok(workers.every((pid) => Number.isInteger(pid) && pid !== berth.pid));
      // glibc reads MALLOC_ARENA_MAX only from the environment a process starts with (src/lib/malloc-arenas.ts).
      for (const pid of workers)
        assert.ok(readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes('MALLOC_ARENA_MAX=2'));
    });

    it('an image pushed through one worker pulls through the other at once', async () => {
      const image = makeImage({ layers: 2 });
      const pushedOn = (await push('workers/app', image, 'v1')).manifest;
      const get = () =>
        fresh(`${berth.url}/v2/workers/app/manifests/v1`, {
          headers: { ...auth(), accept: image.mediaType },
        });
      // The first request the other worker gets after the push's answer already sees the tag.
      const pulled = await onWorker('the other worker', (pid) => pid !== pushedOn, get);
      assert.equal(pulled.status, 200);
      assert.equal(pulled.headers['docker-content-digest'], image.digest);
      assert.deepEqual(pulled.body, image.bytes);
      const layer = image.blobs[1]!;
      const blob = await onWorker(
        'the other worker',
        (pid) => pid !== pushedOn,
        () => fresh(`${berth.url}/v2/workers/app/blobs/${layer.digest}`, { headers: auth() }),
      );
      assert.equal(blob.status, 200);
      assert.deepEqual(blob.body, layer.bytes);
    });

    it('takes concurrent pushes through both workers into the one database', async () => {
      const images = Array.from({ length: 8 }, () => makeImage({ layers: 2, layerSize: 4096 }));
      const pushes = await Promise.all(images.map((image, i) => push('workers/many', image, `t${i}`)));
      assert.equal(new Set(pushes.flatMap((p) => [...p.took])).size, 2, 'both workers took requests');
      const tags = await api.expect<{ name: string }[]>(
        200,
        'GET',
        '/projects/workers/repositories/many/artifacts?page_size=20',
      );
      assert.equal(tags.body.length, images.length);
    });

    it('a bearer token and a UI session made on one worker are honoured by the other', async () => {
      const token = await fresh(
        `${berth.url}/service/token?service=berth&scope=repository:workers/app:pull`,
        {
          headers: auth(),
        },
      );
      assert.equal(token.status, 200);
      const bearer = (JSON.parse(token.body.toString()) as { token: string }).token;
      const tags = await onWorker(
        'the other worker',
        (pid) => pid !== token.worker,
        () =>
          fresh(`${berth.url}/v2/workers/app/tags/list`, { headers: { authorization: `Bearer ${bearer}` } }),
      );
      assert.equal(tags.status, 200, tags.body.toString());

      const login = await fresh(`${berth.url}/c/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ principal: admin.username, password: admin.password }).toString(),
      });
      assert.equal(login.status, 200);
      const setCookie = login.headers['set-cookie'];
      const cookie = (Array.isArray(setCookie) ? setCookie : [setCookie!])
        .map((c) => c.split(';', 1)[0])
        .join('; ');
      const csrf = String(login.headers['x-harbor-csrf-token']);
      const created = await onWorker(
        'the other worker',
        (pid) => pid !== login.worker,
        () =>
          fresh(`${berth.url}/api/v2.0/projects`, {
            method: 'POST',
            headers: { cookie, 'x-harbor-csrf-token': csrf, 'content-type': 'application/json' },
            body: JSON.stringify({ project_name: `made-${Date.now()}` }),
          }),
      );
      assert.equal(created.status, 201, created.body.toString());
    });

    it('a deleted robot is refused by every worker at once', async (t) => {
      const created = await api.expect<{ id: number; name: string; secret: string }>(201, 'POST', '/robots', {
        name: 'puller',
        level: 'system',
        duration: -1,
        permissions: [
          { kind: 'project', namespace: 'workers', access: [{ resource: 'repository', action: 'pull' }] },
        ],
      });
      const robot = {
        authorization: basicAuth({ username: created.body.name, password: created.body.secret }),
      };
      const tags = () => fresh(`${berth.url}/v2/workers/app/tags/list`, { headers: robot });
      for (const pid of workers)
        assert.equal((await onWorker(`worker ${pid}`, (p) => p === pid, tags)).status, 200);
      await api.expect(200, 'DELETE', `/robots/${created.body.id}`);
      const deleted = Date.now();
      // Every request sent after the delete's answer is refused, whichever worker it lands on: batches of
      // concurrent fresh connections until both workers have answered. Each refusal is a failed login:
      // past auth.throttle.maxFailures (10) of them the name is locked out, 429 rather than 401 (when
      // the kernel sent the first batch of 8 to one worker only, the second batch crossed it).
      const answered = new Set<number>();
      const firstSentMs = Date.now() - deleted;
      let sent = 0;
      while (answered.size < 2) {
        const batch = await Promise.all(Array.from({ length: 8 }, tags));
        for (const a of batch) {
          const refused = a.status === 401 || (a.status === 429 && sent + batch.length > 10);
          assert.ok(refused, `worker ${a.worker} still honoured the deleted robot: ${a.status}`);
          answered.add(a.worker);
        }
        sent += batch.length;
      }
      t.diagnostic(
        `every request sent after the delete's answer (the first ${firstSentMs} ms after it) was refused by both workers`,
      );
    });

    it('GET /metrics counts the requests of every worker, whichever one it reaches', async () => {
      const count = async () => {
        const scrape = await fresh(`${berth.url}/metrics`);
        const line = scrape.body
          .toString()
          .split('\n')
          .find((l) =>
            l.startsWith('berth_http_request_duration_seconds_count{method="OPTIONS",surface="registry"'),
          );
        return Number(line?.split(' ').at(-1) ?? 0);
      };
      const before = await count();
      const on = new Set<number>();
      let sent = 0;
      while (sent < 10 || on.size < 2) {
        on.add((await fresh(`${berth.url}/v2/`, { method: 'OPTIONS' })).worker);
        sent++;
      }
      assert.equal((await count()) - before, sent);
    });

    it('fires a schedule once per due time and runs every job in one worker', async () => {
      const since = new Date().toISOString();
      const parameters = { audit_retention_hour: 720, include_event_types: 'pull', dry_run: true };
      await api.expect(201, 'POST', '/system/purgeaudit/schedule', {
        schedule: { type: 'Custom', cron: '* * * * * *' },
        parameters,
      });
      const fires = async () =>
        (
          await sql<{ fire_time: string; job_id: number }>`
          select f.fire_time, f.job_id from schedule_fire f join schedule s on s.id = f.schedule_id
          where s.cron = '* * * * * *' and f.fire_time >= ${since}`.execute(db.db)
        ).rows;
      await waitFor('four fires', async () => (await fires()).length >= 4, 30_000, 200);
      const seen = await fires();
      await api.expect(200, 'PUT', '/system/purgeaudit/schedule', { schedule: { type: 'None' }, parameters });
      assert.equal(new Set(seen.map((f) => f.fire_time)).size, seen.length, 'a due time fired twice');
      const ids = seen.map((f) => Number(f.job_id));
      const jobs = await waitFor(
        'the purge jobs to finish',
        async () => {
          const rows = (
            await sql<{ status: string; lease_owner: string | null }>`
          select status, lease_owner from job where kind = 'audit.purge' and creation_time >= ${since}`.execute(
              db.db,
            )
          ).rows;
          return rows.length >= ids.length && rows.every((r) => r.status === 'succeeded') && rows;
        },
        30_000,
        200,
      );
      const ran = new Set(jobs.map((j) => Number(j.lease_owner!.split(':')[1])));
      assert.equal(ran.size, 1, `jobs ran in ${[...ran].join(', ')}`);
      assert.ok(workers.includes([...ran][0]!), 'a worker ran them, not the primary');
    });

    it('replaces a killed worker and logs it', async () => {
      const [victim, survivor] = workers as [number, number];
      process.kill(victim, 'SIGKILL');
      const replacement = await onWorker(
        'a new worker',
        (pid) => !workers.includes(pid),
        () => fresh(`${berth.url}/v2/`),
        // A worker starts as slowly as Berth does (tsx compiling on a loaded 2-core machine).
        240_000,
      );
      assert.equal(replacement.status, 401);
      assert.match(berth.output(), new RegExp(`"workerPid":${victim}.*a worker exited; starting another`));
      workers = [survivor, replacement.worker];
    });

    it('SIGTERM stops the primary and every worker', async () => {
      const exit = await berth.kill('SIGTERM');
      assert.deepEqual(exit, { code: 0, signal: null });
      for (const pid of workers) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    });
  });
}
