// A project's pages in Debian's Chromium against a real Berth: search, summary with its quota bar, PUSH
// COMMAND, configuration and labels, a Markdown repository description, an index's platform children, an
// artifact's accessories (an OCI referrer) and labels, paging through a repository of 10 000 artifacts,
// members and robot accounts. Administration pages are in portal-admin.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { makeArtifact, makeImage, makeIndex, RegistryClient } from '../../helpers/registry-client.js';
import { hasTool } from '../../helpers/tools.js';
import { builtWebUi, screenshot, type TestBrowser } from '../../helpers/web-ui.js';
import { apiAs, type Creds } from './portal-fixtures.js';
import { chromiumStep, seedArtifacts, signedInChromium } from './portal-pages-fixtures.js';

const MiB = 1024 * 1024;
const sbomType = 'application/vnd.example.sbom.v1+json';

for (const backend of backends()) {
  describe(`portal pages in Chromium (${backend})`, () => {
    let berth: RunningBerth;
    let chrome: TestBrowser;
    let admin: Creds;
    let page: Page;
    let projectId = 0;
    const image = makeImage({ layers: 2, layerSize: 256 * 1024 });
    const sbom = makeArtifact(image, sbomType);
    const children = [makeImage({ architecture: 'amd64' }), makeImage({ architecture: 'arm64' })];
    const index = makeIndex(children);
    const app = (path: string) => `${berth.url}${path}`;

    before(async () => {
      if (!hasTool('chromium')) return;
      berth = await startBerth({ backend, overrides: { ui: { dir: await builtWebUi() } } });
      admin = berth.admin;
      await apiAs(berth.url, admin, '/projects', {
        method: 'POST',
        body: { project_name: 'shop', metadata: { public: 'false' }, storage_limit: 10 * MiB },
      });
      projectId = (await apiAs<{ project_id: number }>(berth.url, admin, '/projects/shop')).project_id;
      const registry = new RegistryClient(berth.url, { auth: admin });
      await registry.pushImage('shop/web', image, '1.0');
      await registry.pushImage('shop/web', sbom);
      for (const child of children) await registry.pushImage('shop/multi', child);
      await registry.pushImage('shop/multi', index, 'latest');
      await seedArtifacts(berth, 'shop/big', 10_000);
      ({ chrome, page } = await signedInChromium(berth, admin));
    });
    after(async () => {
      await chrome?.close();
      await berth?.close();
    });

    chromiumStep(
      'Projects and repositories are searched by name; Summary shows members and the quota bar',
      async () => {
        await page.getByLabel('Filter projects by name').fill('sho');
        await page.getByRole('link', { name: 'library' }).waitFor({ state: 'detached' });
        await page.getByRole('link', { name: 'shop' }).click();
        await page.getByLabel('Filter repositories by name').fill('mul');
        await page.getByRole('link', { name: 'shop/web' }).waitFor({ state: 'detached' });
        await page.getByRole('link', { name: 'shop/multi' }).waitFor();
        await page.getByLabel('Filter repositories by name').fill('nothing-like-it');
        await page.getByText('No repository matches "nothing-like-it".').waitFor();
        // A comma typed in the box is searched for (quoted in q), not read as a second term: no 400.
        await page.getByLabel('Filter repositories by name').fill('mul,ti');
        await page.getByText('No repository matches "mul,ti".').waitFor();
        assert.equal(await page.getByRole('alert').count(), 0, 'no error shown');
        await page.goto(app(`/harbor/projects/${projectId}/summary`));
        const repos = page.getByRole('region', { name: 'Repositories' });
        assert.equal((await repos.locator('.big-number').textContent())?.trim(), '3');
        const bar = page.getByRole('progressbar', { name: 'Storage used' });
        await bar.waitFor();
        assert.ok(Number(await bar.getAttribute('aria-valuenow')) > 0, 'the pushed layers count against it');
        await page
          .getByRole('region', { name: 'Quota' })
          .getByText(/of 10(\.0+)? MiB/)
          .waitFor();
        await screenshot(page, `${backend}-project-summary`);
      },
    );

    chromiumStep('PUSH COMMAND offers docker, podman and helm lines for this host and project', async () => {
      await page.getByRole('button', { name: /PUSH COMMAND/ }).click();
      const host = new URL(berth.url).host;
      assert.equal(
        await page.getByTestId('docker-push').textContent(),
        `docker push ${host}/shop/REPOSITORY[:TAG]`,
      );
      assert.equal(
        await page.getByTestId('docker-tag').textContent(),
        `docker tag SOURCE_IMAGE[:TAG] ${host}/shop/REPOSITORY[:TAG]`,
      );
      assert.equal(
        await page.getByTestId('podman-push').textContent(),
        `podman push IMAGE_ID ${host}/shop/REPOSITORY[:TAG]`,
      );
      assert.equal(
        await page.getByTestId('helm-push').textContent(),
        `helm push CHART_PACKAGE oci://${host}/shop`,
      );
      await screenshot(page, `${backend}-push-command`);
      await page.keyboard.press('Escape');
      assert.equal(await page.getByTestId('docker-push').count(), 0, 'Escape closes the menu');
    });

    chromiumStep('Configuration makes the project public; Labels adds a project label', async () => {
      await page.goto(app(`/harbor/projects/${projectId}/configs`));
      await page.getByRole('checkbox', { name: /^Public/ }).check();
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Saved.').waitFor();
      const shop = await apiAs<{ metadata?: { public?: string } }>(berth.url, admin, '/projects/shop');
      assert.equal(shop.metadata?.public, 'true');
      await page.getByRole('heading', { name: /shop/ }).getByText('Public').waitFor();

      await page.goto(app(`/harbor/projects/${projectId}/labels`));
      await page.getByRole('button', { name: '+ New Label' }).click();
      await page.getByLabel('Name').fill('prod');
      await page.getByRole('button', { name: 'OK' }).click();
      await page.getByRole('cell', { name: 'prod' }).waitFor();
      await page.getByRole('button', { name: '+ New Label' }).click();
      await page.getByLabel('Name').fill('prod');
      await page.getByRole('button', { name: 'OK' }).click();
      await page.getByRole('dialog').getByRole('alert').waitFor();
      assert.match((await page.getByRole('dialog').getByRole('alert').textContent()) ?? '', /exist/i);
    });

    chromiumStep(
      'a repository description is written in Markdown, shown rendered and sanitised',
      async () => {
        await page.goto(app(`/harbor/projects/${projectId}/repositories/web/artifacts-tab`));
        await page.getByRole('button', { name: 'Edit description' }).click();
        await page
          .getByLabel('Description (Markdown)')
          .fill('# Web shop\n\nServes **carts**.\n\n<img src="x" onerror="window.pwned=1">');
        await page.getByRole('button', { name: 'Save' }).click();
        const section = page.getByRole('region', { name: 'Description' });
        await section.getByRole('heading', { name: 'Web shop' }).waitFor();
        assert.equal(await section.locator('strong').textContent(), 'carts');
        assert.equal(await section.locator('[onerror]').count(), 0);
        assert.equal(await page.evaluate(() => (window as { pwned?: number }).pwned), undefined);
        const repo = await apiAs<{ description: string }>(
          berth.url,
          admin,
          '/projects/shop/repositories/web',
        );
        assert.match(repo.description, /^# Web shop/);
      },
    );

    chromiumStep(
      "an artifact's accessories list its OCI referrer, a label is attached; an index lists its platforms",
      async () => {
        await page.locator(`tr[data-digest="${image.digest}"]`).getByRole('link').first().click();
        await page.getByRole('tab', { name: 'Accessories' }).click();
        const accessories = page.getByRole('table', { name: 'Accessories' });
        await accessories.getByRole('link', { name: sbom.digest.slice(7, 19) }).waitFor();
        await screenshot(page, `${backend}-artifact-accessories`);
        await page.getByRole('tab', { name: 'Labels' }).click();
        await page.getByLabel('Label to add').selectOption({ label: 'prod' });
        await page.getByRole('button', { name: 'Add Label' }).click();
        await page.getByRole('tabpanel').getByText('prod', { exact: true }).waitFor();
        const labelled = await apiAs<{ labels?: { name: string }[] }>(
          berth.url,
          admin,
          `/projects/shop/repositories/web/artifacts/${image.digest}?with_label=true`,
        );
        assert.deepEqual(
          labelled.labels?.map((l) => l.name),
          ['prod'],
        );

        await page.goto(app(`/harbor/projects/${projectId}/repositories/multi/artifacts-tab`));
        await page.locator(`tr[data-digest="${index.digest}"]`).getByRole('link').first().click();
        await page.getByRole('tab', { name: 'Children' }).click();
        const table = page.getByRole('table', { name: 'Children' });
        await table.getByRole('cell', { name: 'linux/amd64' }).waitFor();
        await table.getByRole('cell', { name: 'linux/arm64' }).waitFor();
        await screenshot(page, `${backend}-index-children`);
      },
    );

    chromiumStep('a repository of 10 000 artifacts pages through the API, first to last', async () => {
      const pages: string[] = [];
      page.on('request', (r) => {
        if (r.url().includes('/repositories/big/artifacts?')) pages.push(new URL(r.url()).search);
      });
      await page.goto(app(`/harbor/projects/${projectId}/repositories/big/artifacts-tab`));
      const pager = page.getByRole('navigation', { name: 'Pages' });
      await pager.getByText('1–15 of 10000').waitFor();
      assert.equal(await page.locator('tr[data-digest]').count(), 15);
      await pager.getByRole('button', { name: 'Last' }).click();
      await pager.getByText('Page 667 of 667').waitFor();
      await pager.getByText('9991–10000 of 10000').waitFor();
      // The last page holds the 10 oldest, t-00009 … t-00000 (newest first).
      await page.locator('tr[data-digest]').getByText('t-00000', { exact: true }).waitFor();
      assert.equal(await page.locator('tr[data-digest]').count(), 10);
      assert.ok(pages.length > 0 && pages.every((s) => /page_size=15/.test(s)), pages.join(' '));
      await page.getByLabel('Filter artifacts by tag').fill('t-00042');
      await pager.waitFor({ state: 'detached' });
      assert.equal(await page.locator('tr[data-digest]').count(), 1);
      await screenshot(page, `${backend}-paging`);
      // Select two artifacts with the page checkbox and delete them together.
      await page.getByLabel('Filter artifacts by tag').fill('t-0004');
      await pager.waitFor({ state: 'detached' });
      await page.locator('tr[data-digest]').nth(9).waitFor();
      await page.locator('tr[data-digest]').nth(0).getByRole('checkbox').check();
      await page.locator('tr[data-digest]').nth(1).getByRole('checkbox').check();
      await page.getByRole('button', { name: 'Delete (2)' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      await page.waitForFunction(() => document.querySelectorAll('tr[data-digest]').length === 8);
      const left = await apiAs<unknown[]>(
        berth.url,
        admin,
        '/projects/shop/repositories/big/artifacts?q=tags%3D~t-0004&page_size=20',
      );
      assert.equal(left.length, 8);
    });

    chromiumStep('Members: a group is added, its role changed, then removed', async () => {
      await page.goto(app(`/harbor/projects/${projectId}/members`));
      await page.getByRole('button', { name: '+ Group' }).click();
      await page.getByLabel('Group Name').fill('devs');
      await page.getByLabel('Developer', { exact: true }).check();
      await page.getByRole('button', { name: 'OK' }).click();
      const role = page.getByLabel('Role of devs');
      await role.waitFor();
      await role.selectOption({ label: 'Maintainer' });
      const members = () =>
        apiAs<{ entity_name: string; role_id: number }[]>(berth.url, admin, `/projects/${projectId}/members`);
      for (let i = 0; i < 50 && (await members()).find((m) => m.entity_name === 'devs')?.role_id !== 4; i++)
        await new Promise((r) => setTimeout(r, 100));
      assert.equal((await members()).find((m) => m.entity_name === 'devs')?.role_id, 4);
      await page.getByRole('row', { name: /devs/ }).getByRole('button', { name: 'Remove' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
      await role.waitFor({ state: 'detached' });
      assert.equal(
        (await members()).some((m) => m.entity_name === 'devs'),
        false,
      );
    });

    chromiumStep(
      'Robot accounts: the default expiry is the system one; refresh shows a new secret once; disable',
      async () => {
        await apiAs(berth.url, admin, '/configurations', {
          method: 'PUT',
          body: { robot_token_duration: 45 },
        });
        await page.goto(app(`/harbor/projects/${projectId}/robot-account`));
        await page.getByRole('button', { name: '+ New Robot Account' }).click();
        await page.getByLabel('Name', { exact: true }).fill('deploy');
        await page.getByRole('button', { name: 'Add' }).click();
        const first = await page.getByTestId('robot-secret').textContent();
        await page.getByRole('button', { name: 'Done' }).click();
        const row = page.getByRole('row', { name: /deploy/ });
        await row.getByRole('button', { name: 'Refresh Secret' }).click();
        const second = await page.getByTestId('robot-secret').textContent();
        assert.ok(second && second !== first, 'a new secret');
        await page.getByRole('button', { name: 'Done' }).click();
        await row.getByRole('button', { name: 'Disable' }).click();
        await row.getByText('Disabled').waitFor();
        const deploy = async () =>
          (
            await apiAs<{ name: string; disable: boolean; creation_time: string; expires_at: number }[]>(
              berth.url,
              admin,
              `/robots?q=Level=project,ProjectID=${projectId}`,
            )
          ).find((r) => r.name.endsWith('+deploy'));
        // Seen once on PostgreSQL: the list showed Disabled while the API still said enabled; wait for it.
        for (let i = 0; i < 50 && (await deploy())?.disable !== true; i++) await page.waitForTimeout(100);
        // Created with the expiry left empty: the system's robot token duration (45 days, set above).
        const made = (await deploy())!;
        const days = (made.expires_at - Date.parse(made.creation_time) / 1000) / 86400;
        assert.ok(Math.abs(days - 45) < 0.01, `expires after ${days} days`);
        assert.equal((await deploy())?.disable, true, JSON.stringify(await deploy()));
      },
    );
  });
}
