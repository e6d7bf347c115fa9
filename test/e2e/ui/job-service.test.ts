// Administration → Job Service Dashboard and Clean Up → Log Rotation in Debian's Chromium against a real
// Berth: a queue paused and resumed from the page while jobs wait in it, a running job stopped, the
// schedules paused; audit logs purged by a dry run, a real run and a saved schedule.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { testKind, untilAborted } from '../../helpers/jobs.js';
import { hasTool } from '../../helpers/tools.js';
import { waitFor } from '../../helpers/wait.js';
import { builtWebUi, chooseWhileLoading, screenshot, type TestBrowser } from '../../helpers/web-ui.js';
import { apiAs } from './portal-fixtures.js';
import { chromiumStep, signedInChromium } from './portal-pages-fixtures.js';

for (const backend of backends()) {
  describe(`job service dashboard and log rotation in Chromium (${backend})`, () => {
    let berth: RunningBerth;
    let chrome: TestBrowser;
    let page: Page;
    const app = (path: string) => `${berth.url}${path}`;

    before(async () => {
      if (!hasTool('chromium')) return;
      berth = await startBerth({
        backend,
        overrides: { ui: { dir: await builtWebUi() }, jobs: { pollIntervalMs: 50 } },
      });
      berth.app.jobs.queue.register(testKind('test.quick', async () => undefined));
      berth.app.jobs.queue.register(testKind('test.block', (_p, ctx) => untilAborted(ctx.signal)));
      ({ chrome, page } = await signedInChromium(berth, berth.admin));
    });
    after(async () => {
      await chrome?.close();
      await berth?.close();
    });

    chromiumStep(
      'Job Service Dashboard: pause a queue, see its jobs wait, resume; stop a running job',
      async () => {
        const { jobs, store } = berth.app;
        await page.goto(app('/harbor/job-service-dashboard'));
        const row = page.locator('tr[data-job-type="test.quick"]');
        await row.getByRole('button', { name: 'Pause test.quick' }).click();
        await row.getByTestId('queue-paused').getByText('Paused').waitFor();
        const ids = [];
        for (let n = 0; n < 3; n++) ids.push(await jobs.queue.add('test.quick', { n }));
        // The page refreshes by itself.
        await row.getByTestId('queue-count').getByText('3', { exact: true }).waitFor();
        await row.getByRole('button', { name: 'Resume test.quick' }).click();
        await row.getByTestId('queue-count').getByText('0', { exact: true }).waitFor();
        for (const id of ids) assert.equal((await store.jobs.find(id))!.status, 'succeeded');

        const blocked = await jobs.queue.add('test.block', { n: 1 });
        const worker = page.getByRole('table', { name: 'Workers' }).getByRole('row', { name: /test\.block/ });
        await worker.waitFor();
        await screenshot(page, `${backend}-job-service-dashboard`);
        await worker.getByRole('button', { name: `Stop job ${blocked}` }).click();
        await waitFor('the job to stop', async () => (await store.jobs.find(blocked))!.status === 'stopped');
        await worker.waitFor({ state: 'detached' });

        await page.getByRole('button', { name: 'Pause all schedules' }).click();
        await page.getByTestId('scheduler-state').getByText('Schedules paused').waitFor();
        assert.deepEqual(await apiAs(berth.url, berth.admin, '/schedules/all/paused'), { paused: true });
        await page.getByRole('button', { name: 'Resume all schedules' }).click();
        await page.getByTestId('scheduler-state').getByText('Schedules running').waitFor();
        await page.getByRole('table', { name: 'Schedules' }).getByText('upload.purge').waitFor();
      },
    );

    chromiumStep('Clean Up → Log Rotation: dry run, purge now, schedule daily', async () => {
      const old = new Date(Date.now() - 3 * 86_400_000).toISOString();
      const base = { project_id: null, username: 'admin', client_ip: '::1', user_agent: 't', success: 1 };
      await berth.app.store.audit.insertMany([
        { ...base, operation: 'pull', resource_type: 'artifact', resource: 'old-pull', op_time: old },
        { ...base, operation: 'create', resource_type: 'artifact', resource: 'old-push', op_time: old },
      ]);
      const resources = async () =>
        (
          await berth.app.store.audit.list('all', { keywords: {}, sorts: [], page: 1, pageSize: 1000 })
        ).rows.map((r) => r.resource);

      await page.goto(app('/harbor/clearing-job/audit-log-purge'));
      const tab = page.getByRole('region', { name: 'Log Rotation' });
      await tab.getByLabel('Keep records in').fill('1');
      for (const label of ['Create artifact', 'Delete artifact', 'Other events'])
        await tab.getByLabel(label).uncheck();
      await tab.getByRole('button', { name: 'Dry run' }).click();
      const history = tab.getByRole('table', { name: 'Purge history' });
      await history.getByRole('row', { name: /MANUAL Yes Success/ }).waitFor();
      assert.ok((await resources()).includes('old-pull'), 'a dry run deletes nothing');

      await tab.getByRole('button', { name: 'Purge now' }).click();
      const real = history.getByRole('row', { name: /MANUAL No Success/ });
      await real.waitFor();
      const left = await resources();
      assert.ok(!left.includes('old-pull') && left.includes('old-push'), left.join(', '));
      await real.getByRole('button', { name: 'Log' }).click();
      await page
        .getByTestId('purge-log')
        .getByText(/purged 1 audit log row/)
        .waitFor();
      await screenshot(page, `${backend}-log-rotation`);
      await page.getByRole('dialog').getByRole('button', { name: /close/i }).click();

      await tab.getByLabel('Schedule to purge').selectOption('Daily');
      await tab.getByRole('button', { name: 'Save' }).click();
      await tab.getByText('Schedule saved.').waitFor();
      const saved = await apiAs<{ schedule: { type: string; cron: string }; job_parameters: string }>(
        berth.url,
        berth.admin,
        '/system/purgeaudit/schedule',
      );
      assert.deepEqual(saved.schedule.type, 'Daily');
      assert.deepEqual(JSON.parse(saved.job_parameters), {
        audit_retention_hour: 24,
        include_event_types: 'pull_artifact',
        dry_run: false,
      });
      await tab.getByTestId('next-purge').waitFor();
    });

    chromiumStep(
      'Log Rotation: what is typed while the saved schedule is loading is what is saved',
      async () => {
        const schedulePath = '/system/purgeaudit/schedule';
        await apiAs(berth.url, berth.admin, schedulePath, {
          method: 'PUT',
          body: {
            schedule: { type: 'Daily', cron: '0 0 0 * * *' },
            parameters: { audit_retention_hour: 24, include_event_types: 'pull_artifact' },
          },
        });
        const tab = page.getByRole('region', { name: 'Log Rotation' });
        const keep = tab.getByLabel('Keep records in');
        await chooseWhileLoading(
          page,
          () => page.goto(app('/harbor/clearing-job/audit-log-purge')),
          /\/api\/v2\.0\/system\/purgeaudit\/schedule$/,
          keep,
          async () => {
            await keep.fill('5');
            await tab.getByLabel('Schedule to purge').selectOption('Weekly');
          },
        );
        // The saved schedule has arrived (its next run shows): the values typed are still the form's.
        await tab.getByTestId('next-purge').waitFor();
        await tab.getByRole('button', { name: 'Save' }).click();
        await tab.getByText('Schedule saved.').waitFor();
        const saved = await apiAs<{ schedule: { type: string }; job_parameters: string }>(
          berth.url,
          berth.admin,
          schedulePath,
        );
        assert.equal(saved.schedule.type, 'Weekly');
        assert.equal(
          (JSON.parse(saved.job_parameters) as { audit_retention_hour: number }).audit_retention_hour,
          120,
        );
      },
    );
  });
}
