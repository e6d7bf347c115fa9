// Administration → Clean Up → Garbage Collection in Debian's Chromium against a real Berth: a dry run and
// a real run from the page (history shows what was, or would be, freed; the log opens), and the schedule
// editor saves a Daily schedule that the API then reports.
import assert from 'node:assert/strict';
import { readBack } from '../../helpers/wait.js';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';
import { hasTool } from '../../helpers/tools.js';
import { builtWebUi, chooseWhileLoading, screenshot, type TestBrowser } from '../../helpers/web-ui.js';
import { apiAs, type Creds } from './portal-fixtures.js';
import { chromiumStep, signedInChromium } from './portal-pages-fixtures.js';

for (const backend of backends()) {
  describe(`Clean Up → Garbage Collection in Chromium (${backend})`, () => {
    let berth: RunningBerth;
    let chrome: TestBrowser;
    let admin: Creds;
    let page: Page;

    before(async () => {
      if (!hasTool('chromium')) return;
      berth = await startBerth({
        backend,
        overrides: { ui: { dir: await builtWebUi() }, jobs: { pollIntervalMs: 100 } },
      });
      admin = berth.admin;
      await apiAs(berth.url, admin, '/projects', { method: 'POST', body: { project_name: 'clean' } });
      const client = new RegistryClient(berth.url, { auth: admin });
      const image = makeImage({ layers: 2, layerSize: 4096 });
      await client.pushImage('clean/app', image);
      const res = await client.fetch(`/v2/clean/app/manifests/${image.digest}`, { method: 'DELETE' });
      assert.equal(res.status, 202);
      ({ chrome, page } = await signedInChromium(berth, admin));
    });
    after(async () => {
      await chrome?.close();
      await berth?.close();
    });

    chromiumStep('a dry run, then GC Now: the history shows what would be and what was freed', async () => {
      await page.goto(`${berth.url}/harbor/projects`);
      await page.getByRole('link', { name: 'Clean Up' }).click();
      await page.waitForURL(/\/harbor\/clearing-job\/gc$/);
      await page.getByRole('heading', { name: 'Clean Up' }).waitFor();
      await page.getByRole('button', { name: 'Dry Run' }).click();
      const rows = page.getByRole('table', { name: 'GC History' }).locator('tbody tr');
      await rows.first().getByText('Success').waitFor({ timeout: 30_000 });
      assert.match(await rows.first().innerText(), /Yes/);
      assert.match(
        await rows.first().getByTestId('gc-result').innerText(),
        /3 blob\(s\) and 1 manifest\(s\) would be deleted, [\d.]+ KiB would be freed/,
      );
      await page.getByRole('button', { name: 'GC Now' }).click();
      await assert.doesNotReject(
        page.waitForFunction(
          () => document.querySelectorAll('table[aria-label="GC History"] tbody tr').length === 2,
          undefined,
          { timeout: 30_000 },
        ),
      );
      await rows.first().getByText('Success').waitFor({ timeout: 30_000 });
      assert.match(
        await rows.first().getByTestId('gc-result').innerText(),
        /3 blob\(s\) and 1 manifest\(s\) deleted, [\d.]+ KiB freed/,
      );
      await rows.first().getByRole('button', { name: 'Log' }).click();
      const log = page.getByTestId('gc-log');
      await log.getByText(/done in/).waitFor();
      assert.match(await log.innerText(), /deleted 4 blob\(s\) of which 1 manifest\(s\)/);
      await screenshot(page, `${backend}-clean-up-gc-log`);
      await page.keyboard.press('Escape');
    });

    chromiumStep('the schedule editor saves a Daily schedule with delete untagged', async () => {
      await page.goto(`${berth.url}/harbor/clearing-job/gc`);
      const form = page.getByRole('form', { name: 'GC Schedule' });
      await form.getByLabel('Schedule to GC').selectOption('Daily');
      await form.getByLabel('Delete untagged artifacts').check();
      await form.getByRole('button', { name: 'Save' }).click();
      await form.getByText('Schedule saved.').waitFor();
      // The UI says saved once the PUT answered: the API has the schedule. (The {} read once in session 16
      // was not late: the slow first read of the schedule had reset the form to None before Save; the
      // step below holds that read back. docs/web-ui.md, "Forms over saved settings".)
      type Schedule = { schedule?: { type: string; cron: string }; job_parameters: string };
      const schedule = await readBack('the GC schedule', async () => {
        const s = await apiAs<Schedule>(berth.url, admin, '/system/gc/schedule');
        return s.schedule ? (s as Required<Schedule>) : undefined;
      });
      assert.equal(schedule.schedule.type, 'Daily');
      assert.equal(schedule.schedule.cron, '0 0 0 * * *');
      assert.equal(
        (JSON.parse(schedule.job_parameters) as { delete_untagged: boolean }).delete_untagged,
        true,
      );
      await form.getByText(/Next run:/).waitFor();
      await screenshot(page, `${backend}-clean-up-gc-schedule`);
    });

    chromiumStep('a schedule chosen while the saved one is still loading is the one saved', async () => {
      await apiAs(berth.url, admin, '/system/gc/schedule', {
        method: 'PUT',
        body: { schedule: { type: 'Daily' }, parameters: { delete_untagged: false } },
      });
      // The user picks Weekly while the page's read of the saved schedule (Daily) is still on its way.
      const form = page.getByRole('form', { name: 'GC Schedule' });
      const select = form.getByLabel('Schedule to GC');
      await chooseWhileLoading(
        page,
        () => page.goto(`${berth.url}/harbor/clearing-job/gc`),
        /\/api\/v2\.0\/system\/gc\/schedule$/,
        select,
        async () => {
          await select.selectOption('Weekly');
          await form.getByLabel('Delete untagged artifacts').check();
        },
      );
      // The saved schedule has arrived (its next run shows); the choice made is still the one on the form.
      await form.getByText(/Next run:/).waitFor();
      await form.getByRole('button', { name: 'Save' }).click();
      await form.getByText('Schedule saved.').waitFor();
      const saved = await apiAs<{ schedule?: { type: string }; job_parameters: string }>(
        berth.url,
        admin,
        '/system/gc/schedule',
      );
      assert.equal(saved.schedule?.type, 'Weekly');
      assert.equal((JSON.parse(saved.job_parameters) as { delete_untagged: boolean }).delete_untagged, true);
    });
  });
}
