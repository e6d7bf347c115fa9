// Scan all (issue 17) and stopping scans while they run: Harbor's scanAll calls (schedule, metrics, stop)
// with the built-in scanner, a run that skips reports newer than the vulnerability database, and a slow
// Pluggable Scanner adapter (tests' own, on 127.0.0.1) whose scans are stopped mid-way.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { importVulnDb } from '../../../src/services/scanning/builtin/vulndb-import.js';
import { BUILTIN_SCANNER_UUID } from '../../../src/services/scanning/scanner.js';
import { backends } from '../../helpers/berth.js';
import { startFakeHttp, type FakeServer } from '../../helpers/fake-http.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { useBerth } from '../../helpers/registry-client.js';
import { CLEAN_PACKAGES, VULNERABLE_PACKAGES, debianImage } from '../../helpers/scan-images.js';
import { startTestAdapter, type TestAdapter } from '../../helpers/scanner-adapter.js';
import { DEBIAN12_FIXTURE_DIR } from '../../helpers/vulndb.js';
import { waitFor } from '../../helpers/wait.js';

const MIME = 'application/vnd.security.vulnerability.report; version=1.1';

interface Stats {
  total?: number;
  completed?: number;
  metrics?: Record<string, number>;
  ongoing?: boolean;
  trigger?: string;
}
type Artifact = { scan_overview?: Record<string, { scan_status: string; report_id: string }> };

const artifactPath = (project: string, repo: string, ref: string) =>
  `/projects/${project}/repositories/${repo}/artifacts/${ref}`;

for (const backend of backends()) {
  describe(`scan all and stopping running scans (${backend})`, () => {
    const f = useBerth(backend);
    let api: HarborApi;
    let adapter: TestAdapter;
    let hooks: FakeServer;
    let adapterUuid = '';

    const status = async (project: string, repo: string, ref: string) => {
      const res = await api.expect<Artifact>(
        200,
        'GET',
        `${artifactPath(project, repo, ref)}?with_scan_overview=true`,
      );
      return res.body.scan_overview?.[MIME];
    };
    const finished = (path: string) =>
      waitFor(`scan all (${path}) to finish`, async () => {
        const m = await api.expect<Stats>(200, 'GET', path);
        return m.body.ongoing === false ? m.body : undefined;
      });
    const setDefault = (uuid: string) => api.expect(200, 'PATCH', `/scanners/${uuid}`, { is_default: true });

    before(async () => {
      api = new HarborApi(f.berth.url);
      await importVulnDb({ store: f.berth.app.store }, DEBIAN12_FIXTURE_DIR);
      // Reports stay "not ready" for a minute: every adapter scan runs until it is stopped.
      adapter = await startTestAdapter({ reportDelayMs: 60_000 });
      hooks = await startFakeHttp([['POST', '/hook', () => ({ status: 200 })]]);
      const res = await api.expect(201, 'POST', '/scanners', { name: 'Slow', url: adapter.url });
      adapterUuid = res.headers.get('location')!.split('/').pop()!;
    });
    after(async () => {
      await adapter.close();
      await hooks.close();
    });

    test("schedule calls answer as Harbor's do; metrics and stop before any run", async () => {
      assert.deepEqual((await api.expect(200, 'GET', '/system/scanAll/schedule')).body, {});
      assert.deepEqual((await api.expect(200, 'GET', '/scans/all/metrics')).body, {});
      assert.deepEqual((await api.expect(200, 'GET', '/scans/schedule/metrics')).body, {});
      await api.expectError(400, 'BAD_REQUEST', 'POST', '/system/scanAll/stop');
      const daily = { schedule: { type: 'Daily', cron: '0 0 0 * * *' } };
      await api.expect(201, 'POST', '/system/scanAll/schedule', daily);
      const again = await api.expectError(412, 'PRECONDITION', 'POST', '/system/scanAll/schedule', daily);
      assert.match(again, /^fail to set schedule for scan all as always had one/);
      const got = await api.expect<{
        id: number;
        schedule: { type: string; cron: string; next_scheduled_time?: string };
      }>(200, 'GET', '/system/scanAll/schedule');
      const { next_scheduled_time: next, ...daily2 } = got.body.schedule;
      assert.deepEqual(daily2, { type: 'Daily', cron: '0 0 0 * * *' });
      assert.ok(Date.parse(next!) > Date.now());
      const manual = await api.expectError(400, 'BAD_REQUEST', 'PUT', '/system/scanAll/schedule', {
        schedule: { type: 'Manual' },
      });
      assert.equal(manual, 'fail to update scan all schedule as wrong schedule type: Manual');
      const bad = await api.expectError(400, 'BAD_REQUEST', 'PUT', '/system/scanAll/schedule', {
        schedule: { type: 'Custom', cron: '* *' },
      });
      assert.match(bad, /^invalid cron string for scheduled scan all: \* \*, error: /);
      await api.expect(200, 'PUT', '/system/scanAll/schedule', {
        schedule: { type: 'Custom', cron: '0 30 4 * * *' },
      });
      const custom = await api.expect<{ schedule: { type: string; cron: string } }>(
        200,
        'GET',
        '/system/scanAll/schedule',
      );
      assert.deepEqual([custom.body.schedule.type, custom.body.schedule.cron], ['Custom', '0 30 4 * * *']);
      await api.expect(200, 'PUT', '/system/scanAll/schedule', { schedule: { type: 'None' } });
      assert.deepEqual((await api.expect(200, 'GET', '/system/scanAll/schedule')).body, {});
      await api.expect(201, 'POST', '/system/scanAll/schedule', { schedule: { type: 'None' } });
      // System administrators only (Harbor's scan-all resource is a system one).
      await api.anonymous().expect(401, 'GET', '/scans/all/metrics');
    });

    test('a run scans each artifact once, skips reports newer than the database, and rescans after an import', async () => {
      const vulnerable = debianImage(VULNERABLE_PACKAGES, 'all-a');
      await f.client.pushImage('all1/a', vulnerable, 'v1');
      await f.client.pushImage('all1/b', debianImage(CLEAN_PACKAGES, 'all-b'), 'v1');
      await api.expect(202, 'POST', `${artifactPath('all1', 'a', 'v1')}/scan`);
      await waitFor(
        'the manual scan',
        async () => (await status('all1', 'a', 'v1'))?.scan_status === 'Success',
      );
      const first = (await status('all1', 'a', 'v1'))!.report_id;

      await api.expect(201, 'POST', '/system/scanAll/schedule', { schedule: { type: 'Manual' } });
      const stats = await finished('/scans/all/metrics');
      // all1/a's report is newer than the database: only all1/b was scanned.
      assert.deepEqual(stats, {
        total: 1,
        completed: 1,
        metrics: { Pending: 0, Running: 0, Success: 1, Error: 0, Stopped: 0 },
        ongoing: false,
        trigger: 'Manual',
      });
      assert.equal((await status('all1', 'b', 'v1'))?.scan_status, 'Success');
      assert.equal((await status('all1', 'a', 'v1'))?.report_id, first);
      assert.deepEqual((await api.expect(200, 'GET', '/scans/schedule/metrics')).body, {});

      // A new import (one record more) makes every report stale: the next run scans both.
      const dir = mkdtempSync(join(tmpdir(), 'osv-'));
      cpSync(DEBIAN12_FIXTURE_DIR, dir, { recursive: true });
      const extra = { id: 'CVE-2099-0001', modified: '2026-01-01T00:00:00Z', affected: [] };
      writeFileSync(join(dir, 'CVE-2099-0001.json'), JSON.stringify(extra));
      await importVulnDb({ store: f.berth.app.store }, dir);
      rmSync(dir, { recursive: true, force: true });
      await api.expect(201, 'POST', '/system/scanAll/schedule', { schedule: { type: 'Manual' } });
      const rerun = await waitFor('the second run', async () => {
        const m = (await api.expect<Stats>(200, 'GET', '/scans/all/metrics')).body;
        return m.ongoing === false && m.total === 2 ? m : undefined;
      });
      assert.equal(rerun.metrics?.Success, 2);
      assert.notEqual((await status('all1', 'a', 'v1'))?.report_id, first);
    });

    test('stop ends a run: its running scans end Stopped, the metrics say so', async () => {
      await setDefault(adapterUuid);
      try {
        const seen = adapter.scans.length;
        await api.expect(201, 'POST', '/system/scanAll/schedule', { schedule: { type: 'Manual' } });
        // Both artifacts are submitted to the slow adapter, whose reports never come.
        await waitFor('the adapter to receive the scans', () => adapter.scans.length >= seen + 2);
        const running = (await api.expect<Stats>(200, 'GET', '/scans/all/metrics')).body;
        assert.equal(running.ongoing, true);
        const conflict = await api.expectError(409, 'CONFLICT', 'POST', '/system/scanAll/schedule', {
          schedule: { type: 'Manual' },
        });
        assert.match(conflict, /^a previous scan all job aleady exits, its status is /);
        await api.expect(202, 'POST', '/system/scanAll/stop');
        const stats = await finished('/scans/all/metrics');
        assert.deepEqual([stats.total, stats.metrics?.Stopped, stats.completed], [2, 2, 2]);
        assert.equal((await status('all1', 'a', 'v1'))?.scan_status, 'Stopped');
      } finally {
        await setDefault(BUILTIN_SCANNER_UUID);
      }
    });

    test('POST .../scan/stop stops a running scan: status Stopped and a SCANNING_STOPPED webhook', async () => {
      await f.berth.createProject('stopr');
      await api.expect(201, 'POST', '/projects/stopr/webhook/policies', {
        name: 'stops',
        event_types: ['SCANNING_STOPPED'],
        targets: [{ type: 'http', address: `${hooks.url}/hook` }],
        enabled: true,
      });
      await api.expect(200, 'PUT', '/projects/stopr/scanner', { uuid: adapterUuid });
      await f.client.pushImage('stopr/app', debianImage(VULNERABLE_PACKAGES, 'stop-running'), 'v1');
      const path = artifactPath('stopr', 'app', 'v1');
      const seen = adapter.scans.length;
      await api.expect(202, 'POST', `${path}/scan`);
      await waitFor('the adapter to receive the scan', () => adapter.scans.length > seen);
      assert.equal((await status('stopr', 'app', 'v1'))?.scan_status, 'Running');
      await api.expect(202, 'POST', `${path}/scan/stop`);
      await waitFor(
        'the scan to stop',
        async () => (await status('stopr', 'app', 'v1'))?.scan_status === 'Stopped',
      );
      const hook = await waitFor('the SCANNING_STOPPED webhook', () =>
        hooks.requests.find((r) => r.url.pathname === '/hook'),
      );
      const payload = JSON.parse(hook.body.toString('utf8')) as {
        type: string;
        event_data: { repository: { repo_full_name: string } };
      };
      assert.equal(payload.type, 'SCANNING_STOPPED');
      assert.equal(payload.event_data.repository.repo_full_name, 'stopr/app');
    });
  });
}
