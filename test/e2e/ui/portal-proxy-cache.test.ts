// Proxy-cache projects in Debian's Chromium, with docker-registry (no auth) as the upstream: the New
// Project dialog's Proxy Cache switch and endpoint picker (administrators only), the project list's and
// project page's marks naming the upstream, an image pulled through listed in the project, and the
// proxy settings on the project's configuration.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import { createRemote } from '../../../src/remotes/remotes.js';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import {
  dockerRegistryBinary,
  startDockerRegistry,
  type RunningDockerRegistry,
} from '../../helpers/docker-registry.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';
import { seedImage } from '../../helpers/replication.js';
import { hasTool } from '../../helpers/tools.js';
import { builtWebUi, screenshot, type TestBrowser } from '../../helpers/web-ui.js';
import { apiAs, type Creds } from './portal-fixtures.js';
import { chromiumStep, signedInChromium, signIn } from './portal-pages-fixtures.js';

for (const backend of backends()) {
  describe(`portal proxy-cache projects in Chromium (${backend})`, () => {
    let berth: RunningBerth;
    let upstream: RunningDockerRegistry;
    let chrome: TestBrowser;
    let admin: Creds;
    let page: Page;
    const image = makeImage({ layers: 1, layerSize: 20_000 });
    const dev: Creds = { username: 'dev2', password: 'Dev2-Passw0rd' };

    before(async () => {
      if (!hasTool('chromium') || !hasTool(dockerRegistryBinary)) return;
      upstream = await startDockerRegistry();
      const seed = createRemote({ type: 'docker-registry', url: upstream.url });
      await seedImage(seed, 'library/redis', image, '7');
      await seed.close();
      berth = await startBerth({ backend, overrides: { ui: { dir: await builtWebUi() } } });
      admin = berth.admin;
      await apiAs(berth.url, admin, '/registries', {
        method: 'POST',
        body: { name: 'distribution', type: 'docker-registry', url: upstream.url },
      });
      await apiAs(berth.url, admin, '/users', {
        method: 'POST',
        body: { ...dev, email: 'dev2@example.com', realname: 'Dev Two' },
      });
      ({ chrome, page } = await signedInChromium(berth, admin));
    });
    after(async () => {
      await chrome?.close();
      await berth?.close();
      await upstream?.stop();
    });

    chromiumStep('an administrator creates a proxy-cache project with the endpoint picker', async () => {
      await page.getByRole('button', { name: '+ New Project' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Project Name').fill('mirror');
      await dialog.getByRole('switch', { name: /Proxy Cache/ }).check();
      assert.equal(await dialog.getByRole('button', { name: 'OK' }).isDisabled(), true);
      await dialog.getByLabel('Endpoint').selectOption({ label: `distribution — ${upstream.url}` });
      await dialog.getByRole('button', { name: 'OK' }).click();
      await page.waitForURL(/\/harbor\/projects\/\d+\/repositories$/);
      await page
        .getByRole('heading', { name: /mirror/ })
        .getByText('Proxy Cache')
        .waitFor();
      const project = await apiAs<{ registry_id?: number }>(berth.url, admin, '/projects/mirror');
      assert.ok(project.registry_id, 'created with registry_id');
      await page.getByRole('link', { name: 'Summary' }).click();
      const card = page.getByRole('region', { name: 'Proxy Cache' });
      await card.getByText('distribution', { exact: true }).waitFor();
      await card.getByText(upstream.url).waitFor();
      await screenshot(page, `${backend}-proxy-cache-summary`);
    });

    chromiumStep('an image pulled through is listed in the project; the list marks the project', async () => {
      const client = new RegistryClient(berth.url, { auth: admin });
      const res = await client.fetch('/v2/mirror/library/redis/manifests/7', {
        headers: { accept: image.mediaType },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), image.digest);
      for (const b of image.blobs) {
        const blob = await client.fetch(`/v2/mirror/library/redis/blobs/${b.digest}`);
        assert.equal(Buffer.from(await blob.arrayBuffer()).length, b.bytes.length);
      }
      await page.getByRole('link', { name: 'Repositories' }).click();
      await page.getByRole('link', { name: 'mirror/library/redis' }).waitFor();
      await page.goto(`${berth.url}/harbor/projects`);
      const row = page.getByRole('row', { name: /mirror/ });
      await row.getByText('Proxy Cache').waitFor();
      await row.getByText(`distribution (${upstream.url})`).waitFor();
      await page
        .getByRole('row', { name: /library/ })
        .getByRole('cell', { name: 'Project' })
        .waitFor();
      await screenshot(page, `${backend}-proxy-cache-list`);
    });

    chromiumStep("the project's configuration shows and edits its proxy settings", async () => {
      const project = await apiAs<{ project_id: number }>(berth.url, admin, '/projects/mirror');
      await page.goto(`${berth.url}/harbor/projects/${project.project_id}/configs`);
      const proxy = page.getByRole('group', { name: 'Proxy Cache' });
      const check = proxy.getByLabel('Tag check window (seconds)');
      await check.waitFor();
      assert.equal(await check.inputValue(), '', 'the default window shows empty');
      await check.fill('0');
      await proxy.getByLabel('Serve stale for at most (minutes)').fill('1440');
      await proxy.getByLabel('Bandwidth from the upstream (Kbps)').fill('x');
      await page
        .getByRole('alert')
        .getByText(/Bandwidth from the upstream.*whole number/)
        .waitFor();
      await proxy.getByLabel('Bandwidth from the upstream (Kbps)').fill('2048');
      await proxy.getByLabel('Max upstream connections').fill('4');
      await proxy.getByLabel('Serve the cached copy when the upstream no longer has the tag').check();
      await proxy.getByLabel('Repository filter').fill('library/*');
      await proxy.getByLabel('Filter kind').selectOption('regex');
      await proxy.getByLabel('Ask the upstream for referrers (signatures, SBOMs)').check();
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('status').getByText('Saved.').waitFor();
      const saved = await apiAs<{ metadata: Record<string, string> }>(berth.url, admin, '/projects/mirror');
      assert.deepEqual(
        [
          'proxy_cache_check_seconds',
          'proxy_cache_stale_minutes',
          'proxy_speed_kb',
          'max_upstream_conn',
          'proxy_cache_local_on_not_found',
          'proxy_cache_filter_pattern',
          'proxy_cache_filter_kind',
          'proxy_referrer_api',
        ].map((k) => saved.metadata[k]),
        ['0', '1440', '2048', '4', 'true', 'library/*', 'regex', 'true'],
      );
      await page.reload();
      await proxy.getByLabel('Max upstream connections').waitFor();
      assert.equal(await proxy.getByLabel('Tag check window (seconds)').inputValue(), '0');
      assert.equal(await proxy.getByLabel('Repository filter').inputValue(), 'library/*');
      assert.equal(await proxy.getByLabel('Filter kind').inputValue(), 'regex');
      // Emptied, a limit is saved as Harbor's -1 (none) and shows empty again.
      await proxy.getByLabel('Max upstream connections').fill('');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('status').getByText('Saved.').waitFor();
      const cleared = await apiAs<{ metadata: Record<string, string> }>(berth.url, admin, '/projects/mirror');
      assert.equal(cleared.metadata.max_upstream_conn, '-1');
      await screenshot(page, `${backend}-proxy-cache-config`);
    });

    chromiumStep('a user who is no administrator gets no Proxy Cache switch', async () => {
      const devPage = await signIn(await chrome.context(), berth.url, dev);
      // The dev signs in in the same browser context: sign the admin page back in afterwards is not needed.
      await devPage.getByRole('button', { name: '+ New Project' }).click();
      const dialog = devPage.getByRole('dialog');
      await dialog.getByLabel('Project Name').waitFor();
      assert.equal(await dialog.getByRole('switch', { name: /Proxy Cache/ }).count(), 0);
      await devPage.close();
    });
  });
}
