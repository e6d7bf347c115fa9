import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { backends, basicAuth, startBerth, testAdmin, type RunningBerth } from '../../helpers/berth.js';

for (const backend of backends()) {
  describe(`operations endpoints (${backend})`, () => {
    let berth: RunningBerth;
    before(async () => {
      berth = await startBerth({ backend });
    });
    after(() => berth.close());

    test('health reports each component healthy', async () => {
      const res = await fetch(`${berth.url}/health`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as { status: string; components: { name: string; status: string }[] };
      assert.equal(body.status, 'healthy');
      assert.deepEqual(body.components.map((c) => `${c.name}:${c.status}`).sort(), [
        'database:healthy',
        'storage:healthy',
      ]);
    });

    test('every answer carries X-Request-Id, and metrics count requests by surface', async () => {
      const v2 = await fetch(`${berth.url}/v2/`, { headers: { authorization: basicAuth(testAdmin) } });
      assert.match(v2.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      const res = await fetch(`${berth.url}/metrics`);
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.match(
        text,
        /berth_http_request_duration_seconds_count\{method="GET",surface="registry",status="200"\} \d+/,
      );
      assert.match(text, /process_resident_memory_bytes/);
    });

    test('a client-supplied X-Request-Id is echoed back', async () => {
      const res = await fetch(`${berth.url}/v2/`, { headers: { 'x-request-id': 'trace-abc-123' } });
      assert.equal(res.status, 401, 'no credentials: challenged');
      assert.equal(res.headers.get('x-request-id'), 'trace-abc-123');
    });
  });
}

describe('database overload (postgres)', () => {
  test('a request that cannot get a pooled connection in time gets 503 with Retry-After, not a hang', async (t) => {
    if (!backends().includes('postgres')) {
      t.skip('PostgreSQL not available');
      return;
    }
    const berth = await startBerth({
      backend: 'postgres',
      overrides: { database: { pool: { max: 1, acquireTimeoutMs: 300 } } },
    });
    assert.match(berth.databaseUrl, /^postgres:/);
    const locker = new pg.Client({ connectionString: berth.databaseUrl });
    try {
      await locker.connect();
      // Hold a lock so Berth's only pooled connection blocks inside a query.
      await locker.query('begin');
      await locker.query('lock table repository in access exclusive mode');
      const blocked = fetch(`${berth.url}/v2/_catalog`, { headers: { authorization: basicAuth(testAdmin) } });
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      const res = await fetch(`${berth.url}/v2/lib/app/tags/list`, {
        headers: { authorization: basicAuth(testAdmin) },
      });
      const waited = Date.now() - started;
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '1');
      const body = (await res.json()) as { errors: { code: string }[] };
      assert.equal(body.errors[0]?.code, 'UNAVAILABLE');
      assert.ok(waited < 5000, `answered after ${waited} ms`);
      await locker.query('commit');
      assert.equal((await blocked).status, 200);
    } finally {
      await locker.end();
      await berth.close();
    }
  });
});
