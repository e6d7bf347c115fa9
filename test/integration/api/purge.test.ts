import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BerthApp } from '../../../src/app.js';
import type { NewAuditLog } from '../../../src/db/tables.js';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { waitFor } from '../../helpers/wait.js';

interface History {
  id: number;
  job_name: string;
  job_kind: string;
  job_parameters: string;
  job_status: string;
}

const hour = 3600_000;

function row(operation: string, resourceType: string, ageHours: number, resource = 'r'): NewAuditLog {
  return {
    project_id: null,
    operation,
    resource_type: resourceType,
    resource,
    username: 'admin',
    client_ip: '127.0.0.1',
    user_agent: 'test',
    success: 1,
    op_time: new Date(Date.now() - ageHours * hour).toISOString(),
  };
}

for (const backend of backends()) {
  describe(`/api/v2.0 audit log rotation (purge) (${backend})`, () => {
    let berth: RunningBerth;
    let api: HarborApi;
    let app: BerthApp;

    /** Every audit row, as `operation_resourceType:resource`. */
    const rows = async () => {
      const all = await app.store.audit.list('all', {
        keywords: {},
        sorts: [],
        page: 1,
        pageSize: 100_000,
      } as never);
      // The API's own audit rows of these calls (create_system, update_jobservice) are not this test's.
      return all.rows
        .filter((r) => r.resource_type !== 'system' && r.resource_type !== 'jobservice')
        .map((r) => `${r.operation}_${r.resource_type}:${r.resource}`)
        .sort();
    };
    const run = async (parameters: Record<string, unknown>) => {
      const res = await api.expect(201, 'POST', '/system/purgeaudit/schedule', {
        schedule: { type: 'Manual' },
        parameters,
      });
      const location = res.headers.get('location')!;
      assert.match(location, /^\/api\/v2\.0\/system\/purgeaudit\/\d+$/);
      const id = Number(location.split('/').pop());
      const done = await waitFor(
        'the purge to finish',
        async () => {
          const h = await api.expect<History>(200, 'GET', `/system/purgeaudit/${id}`);
          return ['Success', 'Error', 'Stopped'].includes(h.body.job_status) && h.body;
        },
        20_000,
      );
      const log = await api.expect<string>(200, 'GET', `/system/purgeaudit/${id}/log`);
      return { id, history: done, log: log.text };
    };

    before(async () => {
      berth = await startBerth({ backend, overrides: { jobs: { pollIntervalMs: 30 } } });
      api = new HarborApi(berth.url);
      app = berth.app;
    });
    after(() => berth.close());

    it('removes exactly the rows older than the retention of the chosen event types; a dry run removes none', async () => {
      await app.store.audit.insertMany([
        row('create', 'artifact', 30, 'old-create'),
        row('pull', 'artifact', 30, 'old-pull'),
        row('delete', 'artifact', 30, 'old-delete'),
        row('create', 'project', 30, 'old-project'),
        row('delete', 'repository', 30, 'old-repo'),
        row('create', 'artifact', 2, 'new-create'),
        row('pull', 'artifact', 2, 'new-pull'),
        row('create', 'project', 2, 'new-project'),
      ]);
      const before = await rows();
      const params = { audit_retention_hour: 24, include_event_types: 'create_artifact,pull_artifact' };

      const dry = await run({ ...params, dry_run: true });
      assert.equal(dry.history.job_status, 'Success');
      assert.match(dry.log, /\[DRYRUN\] 2 audit log row\(s\) would be purged/);
      assert.deepEqual(await rows(), before);

      const real = await run({ ...params, dry_run: false });
      assert.deepEqual(
        { status: real.history.job_status, name: real.history.job_name, kind: real.history.job_kind },
        { status: 'Success', name: 'PURGE_AUDIT_LOG', kind: 'MANUAL' },
      );
      assert.deepEqual(JSON.parse(real.history.job_parameters), { ...params, dry_run: false });
      assert.match(real.log, /purged 2 audit log row\(s\)/);
      assert.deepEqual(
        await rows(),
        before.filter((r) => r !== 'create_artifact:old-create' && r !== 'pull_artifact:old-pull'),
      );

      // `other`: every event type but create/delete/pull artifact.
      await run({ audit_retention_hour: 24, include_event_types: 'other', dry_run: false });
      assert.deepEqual(
        await rows(),
        before.filter((r) => !/:old-(create|pull|project|repo)$/.test(r)),
      );

      const history = await api.expect<History[]>(200, 'GET', '/system/purgeaudit?page=1&page_size=2');
      assert.equal(history.headers.get('x-total-count'), '3');
      assert.equal(history.body.length, 2);
      assert.ok(history.body[0]!.id > history.body[1]!.id, 'newest first');
    });

    it('a purge while requests write audit rows loses none of the new ones', async () => {
      // 12 batches of old rows, purged while new rows keep arriving through the API and the audit log.
      const old = Array.from({ length: 12_000 }, (_, i) => row('pull', 'artifact', 100, `bulk-${i}`));
      for (let i = 0; i < old.length; i += 500) await app.store.audit.insertMany(old.slice(i, i + 500));
      const keep = new Set(await rows());

      const res = await api.expect(201, 'POST', '/system/purgeaudit/schedule', {
        schedule: { type: 'Manual' },
        parameters: { audit_retention_hour: 48, include_event_types: 'pull_artifact,create_project' },
      });
      const id = Number(res.headers.get('location')!.split('/').pop());
      let written = 0;
      let finished = false;
      const writer = (async () => {
        while (!finished) {
          await api.expect(201, 'POST', '/projects', { project_name: `live-${written}` });
          // Another node's audit writer, straight into the table.
          await app.store.audit.insertMany([row('pull', 'artifact', 0, `live-pull-${written}`)]);
          written += 1;
        }
      })();
      await waitFor(
        'the purge to finish',
        async () =>
          (await api.expect<History>(200, 'GET', `/system/purgeaudit/${id}`)).body.job_status === 'Success',
        60_000,
      );
      finished = true;
      await writer;
      // The API's audit rows are written by its buffer, about once a second.
      const after = await waitFor('the live rows', async () => {
        const now = await rows();
        return now.filter((r) => r.startsWith('create_project:projects/live-')).length === written && now;
      });
      assert.equal(after.filter((r) => r.includes(':bulk-')).length, 0, 'every old row purged');
      assert.ok(written > 0);
      for (let i = 0; i < written; i++) {
        assert.ok(after.includes(`create_project:projects/live-${i}`), `project live-${i} kept`);
        assert.ok(after.includes(`pull_artifact:live-pull-${i}`), `pull_artifact:live-pull-${i} kept`);
      }
      for (const r of keep) if (!r.includes(':bulk-')) assert.ok(after.includes(r), `${r} kept`);
      const log = await api.expect<string>(200, 'GET', `/system/purgeaudit/${id}/log`);
      assert.match(log.text, /purged 12000 audit log row\(s\)/);
    });

    it('schedule: create, read, update, remove; Harbor checks on the parameters', async () => {
      await api.expect(200, 'GET', '/system/purgeaudit/schedule');
      const parameters = { audit_retention_hour: 168, include_event_types: 'create_artifact', dry_run: true };
      await api.expect(201, 'POST', '/system/purgeaudit/schedule', {
        schedule: { type: 'Hourly', cron: '0 0 * * * *' },
        parameters,
      });
      const got = await api.expect<{
        schedule: { type: string; cron: string; next_scheduled_time: string };
        job_parameters: string;
      }>(200, 'GET', '/system/purgeaudit/schedule');
      assert.deepEqual(
        { type: got.body.schedule.type, cron: got.body.schedule.cron },
        { type: 'Hourly', cron: '0 0 * * * *' },
      );
      assert.deepEqual(JSON.parse(got.body.job_parameters), parameters);
      assert.ok(Date.parse(got.body.schedule.next_scheduled_time) > Date.now());

      await api.expect(200, 'PUT', '/system/purgeaudit/schedule', {
        schedule: { type: 'Custom', cron: '0 30 2 * * *' },
        parameters,
      });
      const updated = await api.expect<{ schedule: { type: string; cron: string } }>(
        200,
        'GET',
        '/system/purgeaudit/schedule',
      );
      assert.deepEqual(updated.body.schedule, {
        ...updated.body.schedule,
        type: 'Custom',
        cron: '0 30 2 * * *',
      });

      const bad = (body: unknown) =>
        api.expectError(400, 'BAD_REQUEST', 'POST', '/system/purgeaudit/schedule', body);
      await bad({ schedule: { type: 'Custom', cron: 'nope' }, parameters });
      await bad({ schedule: { type: 'Hourly' }, parameters: {} });
      assert.match(
        await bad({ schedule: { type: 'Hourly' }, parameters: { include_event_types: 'x' } }),
        /audit_retention_hour should provide/,
      );
      assert.match(
        await bad({
          schedule: { type: 'Hourly' },
          parameters: { audit_retention_hour: 240_001, include_event_types: '' },
        }),
        /less than 240000/,
      );
      await bad({ schedule: { type: 'Hourly' }, parameters: { audit_retention_hour: 1 } });

      await api.expect(200, 'PUT', '/system/purgeaudit/schedule', { schedule: { type: 'None' }, parameters });
      const none = await api.expect(200, 'GET', '/system/purgeaudit/schedule');
      assert.equal(none.text, '');
    });

    it('a scheduled fire runs as a SCHEDULE execution', async () => {
      await api.expect(201, 'POST', '/system/purgeaudit/schedule', {
        schedule: { type: 'Custom', cron: '* * * * * *' },
        parameters: { audit_retention_hour: 10_000, include_event_types: 'create_artifact' },
      });
      const fired = await waitFor(
        'a scheduled purge',
        async () => {
          const h = await api.expect<History[]>(200, 'GET', '/system/purgeaudit');
          return h.body.find((e) => e.job_kind === 'SCHEDULE' && e.job_status === 'Success');
        },
        15_000,
      );
      await api.expect(200, 'PUT', '/system/purgeaudit/schedule', {
        schedule: { type: 'None' },
        parameters: { audit_retention_hour: 1, include_event_types: '' },
      });
      const log = await api.expect<string>(200, 'GET', `/system/purgeaudit/${fired.id}/log`);
      assert.match(log.text, /purged 0 audit log row\(s\)/);
    });

    it('stop: a run stopped before it starts ends Stopped and deletes nothing', async () => {
      await app.store.audit.insertMany([row('create', 'artifact', 50, 'stop-me')]);
      await api.expect(200, 'PUT', '/jobservice/queues/audit.purge', { action: 'pause' });
      const res = await api.expect(201, 'POST', '/system/purgeaudit/schedule', {
        schedule: { type: 'Manual' },
        parameters: { audit_retention_hour: 1, include_event_types: 'create_artifact' },
      });
      const id = Number(res.headers.get('location')!.split('/').pop());
      assert.equal(
        (await api.expect<History>(200, 'GET', `/system/purgeaudit/${id}`)).body.job_status,
        'Pending',
      );
      await api.expect(200, 'PUT', `/system/purgeaudit/${id}`);
      await api.expect(200, 'PUT', '/jobservice/queues/audit.purge', { action: 'resume' });
      assert.equal(
        (await api.expect<History>(200, 'GET', `/system/purgeaudit/${id}`)).body.job_status,
        'Stopped',
      );
      assert.ok((await rows()).includes('create_artifact:stop-me'));
      await api.expectError(404, 'NOT_FOUND', 'GET', '/system/purgeaudit/999999');
      await api.expectError(404, 'NOT_FOUND', 'PUT', '/system/purgeaudit/999999');
      await api.expectError(404, 'NOT_FOUND', 'GET', '/system/purgeaudit/999999/log');
    });
  });
}
