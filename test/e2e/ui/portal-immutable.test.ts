// Project → Tag Immutability in Debian's Chromium against a real Berth: the rule list, the add/edit
// dialog (a comma list becomes one doublestar alternative), a bad pattern refused in the dialog,
// enable/disable and delete; the artifact's Tags tab marks the protected tag, and removing it is refused
// in words a person understands.
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

type Rule = {
  disabled: boolean;
  tag_selectors: { decoration: string; pattern: string }[];
  scope_selectors: { repository: { decoration: string; pattern: string }[] };
};

for (const backend of backends()) {
  describe(`portal Tag Immutability in Chromium (${backend})`, () => {
    let berth: RunningBerth;
    let chrome: TestBrowser;
    let page: Page;
    let projectId = 0;
    const image = makeImage();
    const rulesTab = () => `${berth.url}/harbor/projects/${projectId}/tag-strategy/immutable-tag`;
    const rules = () => apiAs<Rule[]>(berth.url, berth.admin, `/projects/${projectId}/immutabletagrules`);
    const table = () => page.getByRole('table', { name: 'Tag immutability rules' });

    before(async () => {
      if (!hasTool('chromium')) return;
      berth = await startBerth({ backend, overrides: { ui: { dir: await builtWebUi() } } });
      await apiAs(berth.url, berth.admin, '/projects', { method: 'POST', body: { project_name: 'vault' } });
      projectId = (await apiAs<{ project_id: number }>(berth.url, berth.admin, '/projects/vault')).project_id;
      await new RegistryClient(berth.url, { auth: berth.admin }).pushImage('vault/app', image, 'v1');
      ({ chrome, page } = await signedInChromium(berth, berth.admin));
    });
    after(async () => {
      await chrome?.close();
      await berth?.close();
    });

    chromiumStep(
      'a rule is added from the tab, then edited; a bad pattern is refused in the dialog',
      async () => {
        await page.goto(`${berth.url}/harbor/projects/${projectId}/repositories`);
        await page.getByRole('link', { name: 'Tag Immutability' }).click();
        await page.waitForURL(/\/tag-strategy\/immutable-tag$/);
        await page.getByText('No tag immutability rules').waitFor();
        await page.getByRole('button', { name: '+ Add Rule' }).click();
        await page.getByLabel('For the repositories').fill('app');
        await page.getByLabel('Tags', { exact: true }).fill('[v');
        await page.getByRole('button', { name: 'Add', exact: true }).click();
        await page
          .getByRole('alert')
          .getByText(/tag_selectors\[0\]\.pattern/)
          .waitFor();
        await page.getByLabel('Tags', { exact: true }).fill('v*');
        await page.getByRole('button', { name: 'Add', exact: true }).click();
        await table().getByRole('cell', { name: 'matching v*' }).waitFor();
        await table().getByRole('cell', { name: 'matching app' }).waitFor();
        const [made] = await rules();
        assert.equal(made!.scope_selectors.repository[0]!.pattern, 'app');
        assert.equal(made!.tag_selectors[0]!.pattern, 'v*');

        await table().getByRole('button', { name: 'Edit' }).click();
        await page.getByLabel('Tags matching or excluding').selectOption('excludes');
        await page.getByLabel('Tags', { exact: true }).fill('dev, test');
        await page.getByRole('button', { name: 'Save' }).click();
        await table().getByRole('cell', { name: 'excluding dev,test' }).waitFor();
        const [edited] = await rules();
        assert.deepEqual(edited!.tag_selectors[0], {
          kind: 'doublestar',
          decoration: 'excludes',
          pattern: '{dev,test}',
        });
        await screenshot(page, `${backend}-tag-immutability`);
      },
    );

    chromiumStep('the Tags tab marks the protected tag, and removing it is refused in words', async () => {
      await page.goto(
        `${berth.url}/harbor/projects/${projectId}/repositories/app/artifacts-tab/artifacts/${image.digest}`,
      );
      await page.getByRole('tab', { name: 'Tags' }).click();
      const tags = page.getByRole('table', { name: 'Tags' });
      await tags.getByText('immutable').waitFor();
      await tags.getByRole('button', { name: 'Remove' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
      await page
        .getByRole('alert')
        .getByText(
          /The tag app:v1 is protected by a tag immutability rule of this project, so it cannot be deleted/,
        )
        .waitFor();
      const res = await fetch(`${berth.url}/v2/vault/app/manifests/v1`, {
        method: 'HEAD',
        headers: {
          authorization: `Basic ${Buffer.from(`${berth.admin.username}:${berth.admin.password}`).toString('base64')}`,
        },
      });
      assert.equal(res.status, 200, 'the tag is still there');
    });

    chromiumStep('a rule is disabled, enabled again and deleted from the list', async () => {
      await page.goto(rulesTab());
      await table().getByRole('button', { name: 'Disable' }).click();
      await table().getByText('Disabled').waitFor();
      // The row can show the new state before the PUT has committed: wait for the API to hold it.
      await waitFor('the rule disabled in the API', async () => (await rules())[0]!.disabled === true);
      await table().getByRole('button', { name: 'Enable' }).click();
      await table().getByText('Enabled').waitFor();
      await waitFor('the rule enabled in the API', async () => (await rules())[0]!.disabled === false);
      await table().getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
      await page.getByText('No tag immutability rules').waitFor();
      assert.deepEqual(await rules(), []);
    });
  });
}
