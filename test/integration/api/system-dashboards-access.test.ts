// Who may use the system dashboards (job service, schedules, audit log purge): Harbor checks the system
// resources `jobservice-monitor` and `purge-audit` (endpoints.md), which only system administrators and
// system robots granted them hold. A plain user, even a project admin, gets 403; anonymous gets 401; a
// system robot gets exactly the actions it was granted (rbac.md §5).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';

interface Probe {
  method: string;
  path: string;
  body?: unknown;
  resource: 'jobservice-monitor' | 'purge-audit';
  action: string;
}

const probes: Probe[] = [
  { method: 'GET', path: '/jobservice/pools', resource: 'jobservice-monitor', action: 'list' },
  { method: 'GET', path: '/jobservice/queues', resource: 'jobservice-monitor', action: 'list' },
  { method: 'GET', path: '/schedules', resource: 'jobservice-monitor', action: 'list' },
  {
    method: 'PUT',
    path: '/jobservice/queues/upload.purge',
    body: { action: 'pause' },
    resource: 'jobservice-monitor',
    action: 'stop',
  },
  { method: 'GET', path: '/system/purgeaudit', resource: 'purge-audit', action: 'list' },
  { method: 'GET', path: '/system/purgeaudit/schedule', resource: 'purge-audit', action: 'read' },
  {
    method: 'POST',
    path: '/system/purgeaudit/schedule',
    body: {
      schedule: { type: 'Manual' },
      parameters: { audit_retention_hour: 24, include_event_types: 'create_artifact', dry_run: true },
    },
    resource: 'purge-audit',
    action: 'create',
  },
];

const allowed = (status: number) => status >= 200 && status < 300;

for (const backend of backends()) {
  describe(`system dashboards answer only to holders of their system permission [${backend}]`, () => {
    let berth: RunningBerth;
    let admin: HarborApi;
    before(async () => {
      berth = await startBerth({ backend });
      admin = new HarborApi(berth.url, berth.admin);
      await admin.expect(201, 'POST', '/users', { username: 'owner', password: 'Owner-Pass123' });
      await admin.expect(201, 'POST', '/projects', { project_name: 'mine', metadata: { public: 'false' } });
      await admin.expect(
        201,
        'POST',
        '/projects/mine/members',
        { role_id: 1, member_user: { username: 'owner' } },
        { 'x-is-resource-name': 'true' },
      );
    });
    after(() => berth.close());

    it('a project admin who is no system admin gets 403 on every operation, anonymous 401', async () => {
      const owner = admin.as('owner', 'Owner-Pass123');
      for (const p of probes) {
        const res = await owner.call(p.method, p.path, p.body);
        assert.equal(res.status, 403, `${p.method} ${p.path} as a project admin: ${res.status} ${res.text}`);
        assert.match(res.text, /"code":"FORBIDDEN"/);
        const anon = await admin.anonymous().call(p.method, p.path, p.body);
        assert.equal(anon.status, 401, `${p.method} ${p.path} anonymous: ${anon.status} ${anon.text}`);
      }
    });

    it('a system robot may do exactly what it was granted', async () => {
      const grant = (resource: string, actions: string[]) =>
        admin.expect<{ name: string; secret: string }>(201, 'POST', '/robots', {
          name: `dash-${resource}`,
          level: 'system',
          duration: -1,
          permissions: [
            { kind: 'system', namespace: '/', access: actions.map((action) => ({ resource, action })) },
          ],
        });
      const monitorList = (await grant('jobservice-monitor', ['list'])).body;
      const purgeRead = (await grant('purge-audit', ['read', 'list'])).body;
      const cases = [
        {
          robot: monitorList,
          holds: (p: Probe) => p.resource === 'jobservice-monitor' && p.action === 'list',
        },
        { robot: purgeRead, holds: (p: Probe) => p.resource === 'purge-audit' && p.action !== 'create' },
      ];
      for (const { robot, holds } of cases) {
        const api = admin.as(robot.name, robot.secret);
        for (const p of probes) {
          const res = await api.call(p.method, p.path, p.body);
          if (holds(p))
            assert.ok(allowed(res.status), `${robot.name} ${p.method} ${p.path}: ${res.status} ${res.text}`);
          else
            assert.equal(res.status, 403, `${robot.name} ${p.method} ${p.path}: ${res.status} ${res.text}`);
        }
      }
    });

    it('whether the scheduler is paused is for any signed-in user, as Harbor (authenticated only)', async () => {
      const owner = admin.as('owner', 'Owner-Pass123');
      assert.deepEqual((await owner.expect(200, 'GET', '/schedules/all/paused')).body, { paused: false });
      await admin.anonymous().expect(401, 'GET', '/schedules/all/paused');
    });

    it('a system admin may use every operation', async () => {
      for (const p of probes) {
        const res = await admin.call(p.method, p.path, p.body);
        assert.ok(allowed(res.status), `${p.method} ${p.path} as admin: ${res.status} ${res.text}`);
      }
    });
  });
}
