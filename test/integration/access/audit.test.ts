import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';
import { allQuery } from '../../../src/lib/query.js';

interface Log {
  id: number;
  username: string;
  resource: string;
  resource_type: string;
  operation: string;
  op_time: string;
}
interface LogExt extends Log {
  operation_result: boolean;
  operation_description: string;
}

const byName = { 'x-is-resource-name': 'true' };
const q = (s: string) => `q=${encodeURIComponent(s)}`;

for (const backend of backends()) {
  describe(`audit log (${backend})`, () => {
    let berth: RunningBerth;
    let admin: HarborApi;
    const image = makeImage();
    before(async () => {
      berth = await startBerth({ backend });
      admin = new HarborApi(berth.url);
      await admin.expect(201, 'POST', '/projects', { project_name: 'ap', metadata: { public: 'false' } });
      await admin.expect(201, 'POST', '/projects', { project_name: 'pub', metadata: { public: 'true' } });
      for (const [username, role] of [
        ['owner', 1],
        ['dev', 2],
        ['limited', 5],
      ] as const) {
        await admin.expect(201, 'POST', '/users', { username, password: 'Audit-Pass1' });
        await admin.expect(
          201,
          'POST',
          '/projects/ap/members',
          { role_id: role, member_user: { username } },
          byName,
        );
      }
      await admin.expect(201, 'POST', '/users', { username: 'stranger', password: 'Audit-Pass1' });
    });
    after(async () => berth?.close());
    const as = (user: string) => admin.as(user, 'Audit-Pass1');

    /** Rows are written in batches off the request path: wait until the query finds them. */
    async function waitFor(
      path: string,
      count: number,
      api = admin,
      done: (rows: Log[]) => boolean = () => true,
    ): Promise<Log[]> {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const res = await api.expect<Log[]>(200, 'GET', path);
        if (res.body.length >= count && done(res.body)) return res.body;
        assert.ok(Date.now() < deadline, `${path}: ${res.body.length} rows, waited for ${count}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    test('registry push, pull and delete are recorded with operator, client and user agent', async () => {
      const dev = new RegistryClient(berth.url, { auth: { username: 'dev', password: 'Audit-Pass1' } });
      await dev.pushImage('ap/app', image, 'v1');
      const pulled = await dev.fetch(`/v2/ap/app/manifests/v1`, {
        headers: { accept: image.mediaType, 'user-agent': 'audit-test/1.0' },
      });
      await pulled.body?.cancel();
      assert.equal(pulled.status, 200);
      const deleted = await new RegistryClient(berth.url).fetch(`/v2/ap/app/manifests/${image.digest}`, {
        method: 'DELETE',
      });
      assert.equal(deleted.status, 202);

      const rows = await waitFor(`/audit-logs?${q('resource=~ap/app')}`, 3);
      assert.deepEqual(
        rows.map((r) => [r.operation, r.resource, r.resource_type, r.username]),
        [
          ['delete', `ap/app@${image.digest}`, 'artifact', 'admin'],
          ['pull', 'ap/app:v1', 'artifact', 'dev'],
          ['create', 'ap/app:v1', 'artifact', 'dev'],
        ],
        'newest first',
      );
      const stored = (
        await berth.app.store.audit.list('all', {
          ...allQuery(),
          keywords: { operation: { kind: 'exact', value: 'pull' } },
        })
      ).rows;
      assert.equal(stored[0]!.client_ip, '127.0.0.1');
      assert.equal(stored[0]!.user_agent, 'audit-test/1.0');
      const pushes = await admin.expect<Log[]>(
        200,
        'GET',
        `/audit-logs?${q('operation=create,resource_type=artifact,username=dev')}`,
      );
      assert.deepEqual(
        pushes.body.map((r) => r.resource),
        ['ap/app:v1'],
      );
    });

    test('a robot is the operator of what it pushes', async () => {
      const robot = (
        await admin.expect<{ name: string; secret: string }>(201, 'POST', '/robots', {
          name: 'pusher',
          level: 'project',
          duration: 1,
          permissions: [
            {
              kind: 'project',
              namespace: 'ap',
              access: [
                { resource: 'repository', action: 'push' },
                { resource: 'repository', action: 'pull' },
              ],
            },
          ],
        })
      ).body;
      const client = new RegistryClient(berth.url, {
        auth: { username: robot.name, password: robot.secret },
      });
      await client.pushImage('ap/bot', makeImage(), 'b1');
      const rows = await waitFor(`/audit-logs?${q('resource=ap/bot:b1')}`, 1);
      assert.deepEqual(
        rows.map((r) => [r.operation, r.username]),
        [['create', 'robot$ap+pusher']],
      );
    });

    test('API creates, updates and deletes are recorded with their outcome', async () => {
      await admin.expect(201, 'POST', '/projects', { project_name: 'tmp1' });
      await admin.expect(409, 'POST', '/projects', { project_name: 'tmp1' });
      await admin.expect(200, 'PUT', '/projects/tmp1', { metadata: { auto_scan: 'true' } }, byName);
      await admin.expect(200, 'DELETE', '/projects/tmp1', undefined, byName);
      await as('dev').expect(403, 'DELETE', '/projects/ap', undefined, byName);
      const made = (
        await admin.expect<{ id: number }>(201, 'POST', '/robots', {
          name: 'audited',
          level: 'system',
          duration: 1,
          permissions: [
            { kind: 'project', namespace: 'ap', access: [{ resource: 'repository', action: 'pull' }] },
          ],
        })
      ).body;
      // Earlier tests' robot rows count too: wait for the newest row of this test, not for a number.
      const rows = (await waitFor(
        `/auditlog-exts?${q('resource_type={project robot}')}&page_size=20`,
        6,
        admin,
        (found) => found.some((r) => r.resource === 'robots/audited'),
      )) as LogExt[];
      const summary = rows.map(
        (r) => `${r.username} ${r.operation} ${r.resource_type} ${r.resource} ${r.operation_result}`,
      );
      assert.deepEqual(summary.slice(0, 6), [
        'admin create robot robots/audited true',
        'dev delete project projects/ap false',
        'admin delete project projects/tmp1 true',
        'admin update project projects/tmp1 true',
        'admin create project projects/tmp1 false',
        'admin create project projects/tmp1 true',
      ]);
      assert.ok(made.id > 0);
      // Reads are not audited; nor is a refused login.
      await admin.expect(200, 'GET', '/projects');
      await admin.as('admin', 'Wrong-Pass1').call('POST', '/projects', { project_name: 'nope' });
      const all = await admin.expect<Log[]>(200, 'GET', `/audit-logs?${q('resource=~nope')}`);
      assert.deepEqual(all.body, []);
    });

    test('q filters, sort and paging; bad q is a 400', async () => {
      await waitFor(`/audit-logs?${q('operation=pull')}`, 1);
      const page1 = await admin.expect<Log[]>(200, 'GET', '/audit-logs?page=1&page_size=2');
      const total = Number(page1.headers.get('x-total-count'));
      assert.ok(total >= 4);
      assert.equal(page1.body.length, 2);
      assert.match(page1.headers.get('link') ?? '', /rel="next"/);
      const page2 = await admin.expect<Log[]>(200, 'GET', '/audit-logs?page=2&page_size=2');
      assert.ok(page2.body.every((r) => !page1.body.some((s) => s.id === r.id)));
      assert.ok(page1.body[1]!.op_time >= page2.body[0]!.op_time, 'newest first across pages');
      const oldest = await admin.expect<Log[]>(200, 'GET', '/audit-logs?sort=op_time&page_size=1');
      const newest = await admin.expect<Log[]>(200, 'GET', '/audit-logs?page_size=1');
      assert.ok(oldest.body[0]!.op_time <= newest.body[0]!.op_time);

      const from = oldest.body[0]!.op_time;
      const inRange = await admin.expect<Log[]>(
        200,
        'GET',
        `/audit-logs?${q(`op_time=[${from}~${newest.body[0]!.op_time}]`)}&page_size=100`,
      );
      assert.equal(inRange.headers.get('x-total-count'), String(total));
      const future = await admin.expect<Log[]>(
        200,
        'GET',
        `/audit-logs?${q('op_time=[2999-01-01T00:00:00~]')}`,
      );
      assert.deepEqual(future.body, []);
      const fuzzyUser = await admin.expect<Log[]>(200, 'GET', `/audit-logs?${q('username=~DE')}`);
      assert.ok(fuzzyUser.body.length > 0 && fuzzyUser.body.every((r) => r.username === 'dev'));

      await admin.expectError(400, 'BAD_REQUEST', 'GET', `/audit-logs?${q('colour=red')}`);
      await admin.expectError(400, 'BAD_REQUEST', 'GET', `/audit-logs?${q('op_time=[yesterday~]')}`);
      // An unknown sort key is ignored, as Harbor ignores it: the default order stands.
      const unsorted = await admin.expect<Log[]>(200, 'GET', '/audit-logs?page_size=100');
      const ignored = await admin.expect<Log[]>(200, 'GET', '/audit-logs?sort=secret&page_size=100');
      assert.deepEqual(ignored.body, unsorted.body);
      await admin.expectError(400, 'BAD_REQUEST', 'GET', '/audit-logs?page_size=101');
    });

    test('who may read which logs: admins all, project admins their projects, Limited Guest and strangers not', async () => {
      await waitFor(`/audit-logs?${q('resource=~ap/app')}`, 3);
      await admin.anonymous().expectError(401, 'UNAUTHORIZED', 'GET', '/audit-logs');
      await admin.anonymous().expectError(401, 'UNAUTHORIZED', 'GET', '/auditlog-exts');

      const mine = await as('owner').expect<Log[]>(200, 'GET', '/audit-logs?page_size=100');
      assert.ok(mine.body.length >= 3);
      const apId = (await admin.expect<{ project_id: number }>(200, 'GET', '/projects/ap', undefined, byName))
        .body.project_id;
      const ofAp = (r: Log) =>
        /^(ap\/|projects\/ap(\/|$))/.test(r.resource) || r.resource.startsWith(`projects/${apId}/`);
      assert.ok(mine.body.every(ofAp), JSON.stringify(mine.body));
      const devView = await as('dev').expect<Log[]>(200, 'GET', '/audit-logs');
      assert.deepEqual(devView.body, [], 'a developer may not list logs of its project');
      assert.equal(devView.headers.get('x-total-count'), '0');

      const projectLogs = await as('owner').expect<Log[]>(200, 'GET', '/projects/ap/logs?page_size=100');
      assert.ok(projectLogs.body.some((r) => r.operation === 'pull' && r.resource === 'ap/app:v1'));
      assert.ok(projectLogs.body.every(ofAp));
      assert.equal(projectLogs.headers.get('x-total-count'), mine.headers.get('x-total-count'));
      await as('owner').expect(200, 'GET', '/projects/ap/auditlog-exts');
      await as('dev').expectError(403, 'FORBIDDEN', 'GET', '/projects/ap/logs');
      await as('limited').expectError(403, 'FORBIDDEN', 'GET', '/projects/ap/logs');
      await as('stranger').expectError(404, 'NOT_FOUND', 'GET', '/projects/ap/logs');
      await as('stranger').expectError(404, 'NOT_FOUND', 'GET', '/projects/nope/logs');
      await admin.anonymous().expectError(401, 'UNAUTHORIZED', 'GET', '/projects/pub/logs');
      await as('stranger').expectError(403, 'FORBIDDEN', 'GET', '/projects/pub/logs');
      await admin.expect(200, 'GET', '/projects/pub/logs');

      const events = await as('dev').expect<{ event_type: string }[]>(200, 'GET', '/auditlog-exts/events');
      for (const e of [
        'create_artifact',
        'pull_artifact',
        'delete_artifact',
        'create_project',
        'delete_robot',
      ])
        assert.ok(
          events.body.some((x) => x.event_type === e),
          e,
        );
    });
  });
}
