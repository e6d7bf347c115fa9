// Administration → Distributions and the project's P2P Preheat tab in Debian's Chromium against a real
// Berth and a Dragonfly/Kraken stub on 127.0.0.1: an instance made in the dialog (its health checked),
// pinged, disabled, made default and deleted; a preheat policy made in the dialog and executed, its
// execution, task and log shown, the stub having pulled the image back from Berth.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import { backends, startBerth, testAdmin, type RunningBerth } from '../../helpers/berth.js';
import { startPreheatProviderStub, type PreheatProviderStub } from '../../helpers/preheat-provider.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';
import { hasTool } from '../../helpers/tools.js';
import { builtWebUi, screenshot, type TestBrowser } from '../../helpers/web-ui.js';
import { apiAs } from './portal-fixtures.js';
import { chromiumStep, signedInChromium } from './portal-pages-fixtures.js';

type Instance = { id: number; name: string; enabled: boolean; default: boolean };

for (const backend of backends()) {
  describe(`portal P2P preheat in Chromium (${backend})`, () => {
    let berth: RunningBerth;
    let chrome: TestBrowser;
    let page: Page;
    let stub: PreheatProviderStub;
    let projectId = 0;
    const instances = () => apiAs<Instance[]>(berth.url, berth.admin, '/p2p/preheat/instances');
    const table = () => page.getByRole('table', { name: 'Distributions' });

    before(async () => {
      if (!hasTool('chromium')) return;
      const basic = `Basic ${Buffer.from(`${testAdmin.username}:${testAdmin.password}`).toString('base64')}`;
      stub = await startPreheatProviderStub(basic);
      berth = await startBerth({
        backend,
        overrides: {
          ui: { dir: await builtWebUi() },
          preheat: { checkIntervalSeconds: 0.1 },
          jobs: { pollIntervalMs: 100 },
        },
      });
      await apiAs(berth.url, berth.admin, '/projects', { method: 'POST', body: { project_name: 'p2p' } });
      projectId = (await apiAs<{ project_id: number }>(berth.url, berth.admin, '/projects/p2p')).project_id;
      await new RegistryClient(berth.url, { auth: berth.admin }).pushImage('p2p/app', makeImage(), 'v1');
      ({ chrome, page } = await signedInChromium(berth, berth.admin));
    });
    after(async () => {
      await chrome?.close();
      await berth?.close();
      await stub?.close();
    });

    chromiumStep(
      'an instance is made in the dialog, pinged, disabled, made default and deleted',
      async () => {
        await page.goto(`${berth.url}/harbor/projects`);
        await page.getByRole('link', { name: 'Distributions' }).click();
        await page.waitForURL(/\/harbor\/distribution\/instances$/);
        await page.getByText('No P2P provider instances').waitFor();
        await page.getByRole('button', { name: '+ New Instance' }).click();
        const dialog = page.getByRole('dialog');
        await dialog.getByLabel('Provider').selectOption('dragonfly');
        await dialog.getByLabel('Name').fill('df');
        await dialog.getByLabel('Endpoint').fill(`${stub.url}/df`);
        await dialog.getByRole('button', { name: 'Test Connection' }).click();
        await dialog.getByText('The instance is healthy.').waitFor();
        await dialog.getByRole('button', { name: 'OK' }).click();
        await table()
          .getByRole('cell', { name: `${stub.url}/df` })
          .waitFor();
        const [df] = await instances();
        assert.deepEqual([df!.name, df!.enabled], ['df', true]);

        const row = () =>
          table()
            .getByRole('row')
            .filter({ hasText: `${stub.url}/df` });
        await row().getByRole('button', { name: 'Ping' }).click();
        await row().getByText('Healthy').waitFor();
        await row().getByRole('button', { name: 'Disable' }).click();
        await row().getByRole('button', { name: 'Enable' }).waitFor();
        assert.equal((await instances())[0]!.enabled, false);
        await row().getByRole('button', { name: 'Enable' }).click();
        await row().getByRole('button', { name: 'Disable' }).waitFor();
        await row().getByRole('button', { name: 'Set as Default' }).click();
        await row().getByText('Default', { exact: true }).waitFor();
        assert.equal((await instances())[0]!.default, true);

        await apiAs(berth.url, berth.admin, '/p2p/preheat/instances', {
          method: 'POST',
          body: { name: 'kr', vendor: 'kraken', endpoint: `${stub.url}/kr`, enabled: true },
        });
        await page.reload();
        const kr = table()
          .getByRole('row')
          .filter({ hasText: `${stub.url}/kr` });
        await kr.getByRole('button', { name: 'Delete' }).click();
        await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
        await kr.waitFor({ state: 'detached' });
        assert.deepEqual(
          (await instances()).map((i) => i.name),
          ['df'],
        );
        await screenshot(page, `${backend}-distributions`);
      },
    );

    chromiumStep(
      'a policy is made in the P2P Preheat tab, executed, and its task and log are shown',
      async () => {
        await page.goto(`${berth.url}/harbor/projects/${projectId}/repositories`);
        await page.getByRole('link', { name: 'P2P Preheat' }).click();
        await page.waitForURL(/\/p2p-provider\/policies$/);
        await page.getByText('No preheat policies').waitFor();
        await page.getByRole('button', { name: '+ New Policy' }).click();
        const dialog = page.getByRole('dialog');
        await dialog.getByLabel('Name').fill('warm');
        await dialog.getByLabel('Repositories').fill('app');
        await dialog.getByLabel('Tags').fill('v*');
        await dialog.getByRole('button', { name: 'Add', exact: true }).click();
        const policies = page.getByRole('table', { name: 'Preheat policies' });
        const row = policies.getByRole('row').filter({ hasText: 'warm' });
        await row.getByText('df').waitFor();
        const [made] = await apiAs<{ filters: string; trigger: string; provider_name: string }[]>(
          berth.url,
          berth.admin,
          '/projects/p2p/preheat/policies',
        );
        assert.deepEqual(JSON.parse(made!.filters), [
          { type: 'repository', value: 'app' },
          { type: 'tag', value: 'v*' },
        ]);
        assert.equal(JSON.parse(made!.trigger).type, 'manual');

        await row.getByRole('button', { name: 'Execute' }).click();
        const executions = page.getByRole('table', { name: 'Preheat executions' });
        await executions.getByText('Success').waitFor();
        await executions.getByText('1 of 1 succeeded').waitFor();
        assert.ok(
          stub.pulls.some((p) => p.ok && p.url.endsWith('/v2/p2p/app/manifests/v1')),
          'the stub pulled',
        );
        await executions.getByRole('row').nth(1).getByRole('button').first().click();
        const tasks = page.getByRole('dialog');
        await tasks.getByRole('cell', { name: 'p2p/app:v1' }).waitFor();
        await tasks.getByRole('button', { name: 'Log' }).click();
        await page
          .getByTestId('task-log')
          .getByText(/Preheating is completed/)
          .waitFor();
        await screenshot(page, `${backend}-preheat`);
      },
    );
  });
}
