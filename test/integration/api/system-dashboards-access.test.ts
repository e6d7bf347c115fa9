// Who may use the system dashboards (job service, schedules, audit log purge, garbage collection) and
// scanning's system pages (scanners, scan all, security hub): Harbor checks the system resources
// `jobservice-monitor`, `purge-audit`, `garbage-collection`, `scanner`, `scan-all` and `security-hub`
// (endpoints.md, every operation of their tags), which only system administrators and
// system robots granted them hold. A plain user, even a project admin, gets 403; anonymous gets 401; a
// system robot gets exactly the actions it was granted (rbac.md §5).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { finishedGc, startGc } from '../../helpers/gc.js';
import { BUILTIN_SCANNER_UUID } from '../../../src/services/scanning/scanner.js';
import { HarborApi } from '../../helpers/harbor-api.js';

interface Probe {
  method: string;
  path: string;
  body?: unknown;
  resource:
    'jobservice-monitor' | 'purge-audit' | 'garbage-collection' | 'scanner' | 'scan-all' | 'security-hub';
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
  // The gc tag's 7 operations; GC_ID is a finished dry run made in before().
  { method: 'GET', path: '/system/gc', resource: 'garbage-collection', action: 'list' },
  { method: 'GET', path: '/system/gc/GC_ID', resource: 'garbage-collection', action: 'read' },
  { method: 'GET', path: '/system/gc/GC_ID/log', resource: 'garbage-collection', action: 'read' },
  { method: 'GET', path: '/system/gc/schedule', resource: 'garbage-collection', action: 'read' },
  {
    method: 'POST',
    path: '/system/gc/schedule',
    body: { schedule: { type: 'Manual' }, parameters: { dry_run: true } },
    resource: 'garbage-collection',
    action: 'create',
  },
  {
    method: 'PUT',
    path: '/system/gc/schedule',
    body: { schedule: { type: 'None' } },
    resource: 'garbage-collection',
    action: 'update',
  },
  { method: 'PUT', path: '/system/gc/GC_ID', resource: 'garbage-collection', action: 'stop' },
  // Scanning's system resources (endpoints.md: the scanner, scanAll and securityhub tags).
  { method: 'GET', path: '/scanners', resource: 'scanner', action: 'list' },
  { method: 'GET', path: `/scanners/${BUILTIN_SCANNER_UUID}`, resource: 'scanner', action: 'read' },
  { method: 'GET', path: `/scanners/${BUILTIN_SCANNER_UUID}/metadata`, resource: 'scanner', action: 'read' },
  {
    method: 'PATCH',
    path: `/scanners/${BUILTIN_SCANNER_UUID}`,
    body: { is_default: true },
    resource: 'scanner',
    action: 'update',
  },
  { method: 'GET', path: '/system/scanAll/schedule', resource: 'scan-all', action: 'read' },
  { method: 'GET', path: '/scans/all/metrics', resource: 'scan-all', action: 'read' },
  { method: 'GET', path: '/scans/schedule/metrics', resource: 'scan-all', action: 'read' },
  {
    method: 'PUT',
    path: '/system/scanAll/schedule',
    body: { schedule: { type: 'None' } },
    resource: 'scan-all',
    action: 'update',
  },
  { method: 'GET', path: '/security/summary', resource: 'security-hub', action: 'read' },
  { method: 'GET', path: '/security/vul', resource: 'security-hub', action: 'list' },
];

const allowed = (status: number) => status >= 200 && status < 300;
const idOf = (res: { headers: Headers }) => Number(res.headers.get('location')!.split('/').pop());

for (const backend of backends()) {
  describe(`system dashboards answer only to holders of their system permission [${backend}]`, () => {
    let berth: RunningBerth;
    let admin: HarborApi;
    let gcId = 0;
    const call = (api: HarborApi, p: Probe) =>
      api.call(p.method, p.path.replace('GC_ID', String(gcId)), p.body);
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
      gcId = await startGc(admin, { dry_run: true });
      await finishedGc(admin, gcId);
    });
    after(() => berth.close());

    it('a project admin who is no system admin gets 403 on every operation, anonymous 401', async () => {
      const owner = admin.as('owner', 'Owner-Pass123');
      for (const p of probes) {
        const res = await call(owner, p);
        assert.equal(res.status, 403, `${p.method} ${p.path} as a project admin: ${res.status} ${res.text}`);
        assert.match(res.text, /"code":"FORBIDDEN"/);
        const anon = await call(admin.anonymous(), p);
        assert.equal(anon.status, 401, `${p.method} ${p.path} anonymous: ${anon.status} ${anon.text}`);
      }
    });

    it('a system robot may do exactly what it was granted', async () => {
      const grant = (resource: string, actions: string[]) =>
        admin.expect<{ name: string; secret: string }>(201, 'POST', '/robots', {
          name: `dash-${resource}-${actions.join('-')}`,
          level: 'system',
          duration: -1,
          permissions: [
            { kind: 'system', namespace: '/', access: actions.map((action) => ({ resource, action })) },
          ],
        });
      const monitorList = (await grant('jobservice-monitor', ['list'])).body;
      const purgeRead = (await grant('purge-audit', ['read', 'list'])).body;
      const gcRead = (await grant('garbage-collection', ['read', 'list'])).body;
      const gcRun = (await grant('garbage-collection', ['create', 'update', 'stop'])).body;
      const scannerRead = (await grant('scanner', ['read', 'list'])).body;
      const scanAllRead = (await grant('scan-all', ['read'])).body;
      const scanAllUpdate = (await grant('scan-all', ['update'])).body;
      const hub = (await grant('security-hub', ['read', 'list'])).body;
      const cases = [
        {
          robot: monitorList,
          holds: (p: Probe) => p.resource === 'jobservice-monitor' && p.action === 'list',
        },
        { robot: purgeRead, holds: (p: Probe) => p.resource === 'purge-audit' && p.action !== 'create' },
        {
          robot: gcRead,
          holds: (p: Probe) => p.resource === 'garbage-collection' && ['read', 'list'].includes(p.action),
        },
        {
          robot: gcRun,
          holds: (p: Probe) => p.resource === 'garbage-collection' && !['read', 'list'].includes(p.action),
        },
        {
          robot: scannerRead,
          holds: (p: Probe) => p.resource === 'scanner' && ['read', 'list'].includes(p.action),
        },
        { robot: scanAllRead, holds: (p: Probe) => p.resource === 'scan-all' && p.action === 'read' },
        { robot: scanAllUpdate, holds: (p: Probe) => p.resource === 'scan-all' && p.action === 'update' },
        { robot: hub, holds: (p: Probe) => p.resource === 'security-hub' },
      ];
      for (const { robot, holds } of cases) {
        const api = admin.as(robot.name, robot.secret);
        for (const p of probes) {
          const res = await call(api, p);
          if (holds(p)) {
            assert.ok(allowed(res.status), `${robot.name} ${p.method} ${p.path}: ${res.status} ${res.text}`);
            if (p.method === 'POST' && p.path === '/system/gc/schedule') await finishedGc(admin, idOf(res));
          } else
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
        const res = await call(admin, p);
        if (p.method === 'POST' && p.path === '/system/gc/schedule') await finishedGc(admin, idOf(res));
        assert.ok(allowed(res.status), `${p.method} ${p.path} as admin: ${res.status} ${res.text}`);
      }
    });
  });
}
