// Project → Policy (tag retention) in Debian's Chromium against a real Berth: a rule added from the
// dialog reads back in words, the schedule is saved, a dry run's task log names the artifact that would
// go (and removes nothing), RUN NOW removes it, and the executions list marks which run was dry.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';
import { hasTool } from '../../helpers/tools.js';
import { waitFor } from '../../helpers/wait.js';
import { builtWebUi, screenshot, type TestBrowser } from '../../helpers/web-ui.js';
import { apiAs } from './portal-fixtures.js';
import { chromiumStep, signedInChromium } from './portal-pages-fixtures.js';

for (const backend of backends()) {
  describe(`portal Tag Retention in Chromium (${backend})`, () => {
    let berth: RunningBerth;
    let chrome: TestBrowser;
    let page: Page;
    let projectId = 0;
    const kept = makeImage();
    const old = makeImage();
    const executions = () => page.getByRole('table', { name: 'Retention executions' });
    const digests = async () =>
      (await apiAs<{ digest: string }[]>(berth.url, berth.admin, '/projects/tidy/repositories/app/artifacts'))
        .map((a) => a.digest)
        .sort();
    /** Opens the dry (YES) or real (NO) execution's tasks, then its one task's log; answers the log's text. */
    const taskLog = async (dry: 'YES' | 'NO') => {
      const execution = executions()
        .locator('tr[data-execution]')
        .filter({ has: page.getByRole('cell', { name: dry, exact: true }) });
      await execution.getByRole('cell', { name: 'Success' }).waitFor({ timeout: 20_000 });
      await execution.getByRole('button', { name: 'Details' }).click();
      await page
        .getByRole('table', { name: /^Tasks of execution/ })
        .getByRole('button', { name: 'Log' })
        .click();
      const log = page.getByTestId('retention-log');
      await log.getByText(/artifact\(s\)/).waitFor();
      const text = await log.innerText();
      await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
      await execution.getByRole('button', { name: 'Hide' }).click();
      return text;
    };
    const lineOf = (log: string, digest: string) => log.split('\n').find((l) => l.includes(digest)) ?? '';

    before(async () => {
      if (!hasTool('chromium')) return;
      berth = await startBerth({
        backend,
        overrides: { ui: { dir: await builtWebUi() }, jobs: { pollIntervalMs: 50 } },
      });
      await apiAs(berth.url, berth.admin, '/projects', { method: 'POST', body: { project_name: 'tidy' } });
      projectId = (await apiAs<{ project_id: number }>(berth.url, berth.admin, '/projects/tidy')).project_id;
      const client = new RegistryClient(berth.url, { auth: berth.admin });
      await client.pushImage('tidy/app', kept, 'release');
      await client.pushImage('tidy/app', old, 'old');
      ({ chrome, page } = await signedInChromium(berth, berth.admin));
    });
    after(async () => {
      await chrome?.close();
      await berth?.close();
    });

    chromiumStep(
      'a rule is added from the Policy tab and reads back in words; the schedule is saved',
      async () => {
        await page.goto(`${berth.url}/harbor/projects/${projectId}/repositories`);
        await page.getByRole('link', { name: 'Policy' }).click();
        await page.waitForURL(/\/tag-strategy\/tag-retention$/);
        await page.getByText('No retention rules').waitFor();
        await page.getByRole('button', { name: '+ Add Rule' }).click();
        await page.getByLabel('By artifact count or number of days').selectOption('always');
        await page.getByLabel('Tags', { exact: true }).fill('release');
        await page.getByRole('button', { name: 'Add', exact: true }).click();
        const rules = page.getByRole('list', { name: 'Retention rules' });
        await rules
          .getByText('For the repositories matching **, retain always with tags matching release')
          .waitFor();
        const meta = await apiAs<Record<string, string>>(berth.url, berth.admin, '/projects/tidy/metadatas/');
        const policy = await apiAs<{ rules: { template: string; tag_selectors: { pattern: string }[] }[] }>(
          berth.url,
          berth.admin,
          `/retentions/${meta.retention_id}`,
        );
        assert.equal(policy.rules[0]!.template, 'always');
        assert.equal(policy.rules[0]!.tag_selectors[0]!.pattern, 'release');

        await page.getByLabel('Schedule').selectOption('Daily');
        await page.getByRole('button', { name: 'Save schedule' }).click();
        await page.getByRole('button', { name: 'Save schedule' }).and(page.locator(':disabled')).waitFor();
        // The button is disabled while the PUT is in flight too, so wait for the API to hold the schedule.
        const cron = async () =>
          (
            await apiAs<{ trigger: { settings: { cron: string } } }>(
              berth.url,
              berth.admin,
              `/retentions/${meta.retention_id}`,
            )
          ).trigger.settings.cron;
        const saved = await waitFor('the Daily schedule to be saved', async () => {
          const c = await cron();
          return c === '' ? undefined : c;
        });
        assert.equal(saved, '0 0 0 * * *');
      },
    );

    chromiumStep(
      'a dry run logs the artifact that would go and removes nothing; RUN NOW removes it',
      async () => {
        await page.getByRole('button', { name: 'DRY RUN' }).click();
        await executions().getByRole('cell', { name: 'YES' }).waitFor();
        const dry = await taskLog('YES');
        assert.match(lineOf(dry, old.digest), /DEL/);
        assert.match(lineOf(dry, old.digest), /would be removed/);
        assert.match(lineOf(dry, kept.digest), /RETAIN/);
        assert.deepEqual(await digests(), [kept.digest, old.digest].sort());
        await screenshot(page, `${backend}-tag-retention-dry-run`);

        await page.getByRole('button', { name: 'RUN NOW' }).click();
        await executions().getByRole('cell', { name: 'NO' }).waitFor();
        const real = await taskLog('NO');
        assert.match(lineOf(real, old.digest), /DEL.*removed/);
        assert.deepEqual(await digests(), [kept.digest]);
      },
    );
  });
}
