// Storage quotas in Debian's Chromium against a real Berth: Administration → Project Quotas lists use and
// limit and edits a limit; a full project says so in words on its Summary, where an administrator edits
// the limit too; Configuration sets the default for new projects.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';
import { hasTool } from '../../helpers/tools.js';
import { builtWebUi, screenshot, type TestBrowser } from '../../helpers/web-ui.js';
import { apiAs, type Creds } from './portal-fixtures.js';
import { chromiumStep, signedInChromium } from './portal-pages-fixtures.js';

const MiB = 1024 * 1024;

for (const backend of backends()) {
  describe(`portal storage quotas in Chromium (${backend})`, () => {
    let berth: RunningBerth;
    let chrome: TestBrowser;
    let admin: Creds;
    let page: Page;
    let projectId = 0;
    const app = (path: string) => `${berth.url}${path}`;
    const hardOf = async () =>
      (await apiAs<{ hard: { storage: number } }>(berth.url, admin, `/quotas/${projectId}`)).hard.storage;

    before(async () => {
      if (!hasTool('chromium')) return;
      berth = await startBerth({ backend, overrides: { ui: { dir: await builtWebUi() } } });
      admin = berth.admin;
      await apiAs(berth.url, admin, '/projects', {
        method: 'POST',
        body: { project_name: 'capped', storage_limit: MiB },
      });
      projectId = (await apiAs<{ project_id: number }>(berth.url, admin, '/projects/capped')).project_id;
      await new RegistryClient(berth.url, { auth: admin }).pushImage('capped/app', makeImage(), '1');
      ({ chrome, page } = await signedInChromium(berth, admin));
    });
    after(async () => {
      await chrome?.close();
      await berth?.close();
    });

    chromiumStep('Administration → Project Quotas shows use and limit and edits the limit', async () => {
      await page.goto(app('/harbor/quotas'));
      const row = page.getByRole('row', { name: /capped/ });
      await row.getByRole('cell', { name: '1.00 MiB', exact: true }).waitFor();
      await row.getByText(/% used/).waitFor();
      await row.getByRole('button', { name: 'Edit quota of capped' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Storage Limit', { exact: true }).fill('lots');
      await dialog.getByText('A whole number, or -1 for unlimited').waitFor();
      assert.equal(await dialog.getByRole('button', { name: 'OK' }).isDisabled(), true);
      await dialog.getByLabel('Storage Limit', { exact: true }).fill('2');
      await dialog.getByLabel('Storage limit unit').selectOption('GiB');
      await dialog.getByRole('button', { name: 'OK' }).click();
      await dialog.waitFor({ state: 'detached' });
      await row.getByRole('cell', { name: '2.00 GiB', exact: true }).waitFor();
      assert.equal(await hardOf(), 2 * 1024 * MiB);
      await screenshot(page, `${backend}-project-quotas`);
    });

    chromiumStep('a full project says so on its Summary, where the limit is edited too', async () => {
      await apiAs(berth.url, admin, `/quotas/${projectId}`, {
        method: 'PUT',
        body: { hard: { storage: 100 } },
      });
      await page.goto(app(`/harbor/projects/${projectId}/summary`));
      await page
        .getByRole('status')
        .getByText('Full: pushes are refused until images are deleted or the limit is raised.')
        .waitFor();
      await page.getByRole('button', { name: 'Edit quota' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Storage Limit', { exact: true }).fill('-1');
      await dialog.getByRole('button', { name: 'OK' }).click();
      await dialog.waitFor({ state: 'detached' });
      await page.getByText(/of unlimited/).waitFor();
      assert.equal(await page.getByRole('status').filter({ hasText: 'Full' }).count(), 0);
      assert.equal(await hardOf(), -1);
      await screenshot(page, `${backend}-project-summary-quota`);
    });

    chromiumStep('Configuration sets the default quota of new projects, refusing a bad one', async () => {
      await page.goto(app('/harbor/configs'));
      const field = page.getByLabel('Default Project Quota (bytes, -1 for unlimited)');
      await field.fill('-5');
      await page.getByRole('button', { name: 'Save' }).click();
      await page
        .getByRole('alert')
        .getByText(/storage_per_project/)
        .waitFor();
      await field.fill(String(10 * MiB));
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Configuration saved.').waitFor();
      const config = await apiAs<Record<string, { value: unknown }>>(berth.url, admin, '/configurations');
      assert.equal(config.storage_per_project?.value, 10 * MiB);
    });
  });
}
