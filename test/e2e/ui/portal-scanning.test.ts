// Scanning in Debian's Chromium against a real Berth (issue 17's UI): a Debian 12 image holding bash and
// sqlite3 versions the committed OSV fixture marks vulnerable is scanned from the repository page (SCAN),
// shows its severity bar and, on the artifact's Vulnerabilities tab, the report's rows sorted and linked;
// the project Configuration's "Prevent vulnerable images" gets pulls refused (412) until a project CVE
// allowlist made there exempts both CVEs; Interrogation Services registers the test adapter after a passing
// "Test connection" and shows the vulnerability database; the security hub counts and filters the findings;
// Scan Now scans all and shows the finished run; the project's Scanner tab selects the adapter.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import { importVulnDb } from '../../../src/services/scanning/builtin/vulndb-import.js';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { RegistryClient } from '../../helpers/registry-client.js';
import { startTestAdapter, type TestAdapter } from '../../helpers/scanner-adapter.js';
import { debianImage, VULNERABLE_PACKAGES } from '../../helpers/scan-images.js';
import { hasTool } from '../../helpers/tools.js';
import { DEBIAN12_FIXTURE_DIR } from '../../helpers/vulndb.js';
import { waitFor } from '../../helpers/wait.js';
import { builtWebUi, chooseWhileLoading, screenshot, type TestBrowser } from '../../helpers/web-ui.js';
import { apiAs } from './portal-fixtures.js';
import { chromiumStep, signedInChromium } from './portal-pages-fixtures.js';

for (const backend of backends()) {
  describe(`portal scanning in Chromium (${backend})`, () => {
    let berth: RunningBerth;
    let chrome: TestBrowser;
    let page: Page;
    let adapter: TestAdapter;
    let registry: RegistryClient;
    let projectId = 0;
    const app = (path: string) => `${berth.url}${path}`;
    const pullStatus = async () => {
      const res = await registry.fetch('/v2/sec/app/manifests/v1', {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      await res.body?.cancel();
      return res.status;
    };

    before(async () => {
      if (!hasTool('chromium')) return;
      berth = await startBerth({ backend, overrides: { ui: { dir: await builtWebUi() } } });
      await importVulnDb({ store: berth.app.store }, DEBIAN12_FIXTURE_DIR);
      adapter = await startTestAdapter();
      projectId = await berth.createProject('sec');
      registry = new RegistryClient(berth.url, { auth: berth.admin });
      await registry.pushImage('sec/app', debianImage(VULNERABLE_PACKAGES, 'ui'), 'v1');
      ({ chrome, page } = await signedInChromium(berth, berth.admin));
    });
    after(async () => {
      await chrome?.close();
      await adapter?.close();
      await berth?.close();
    });

    chromiumStep(
      'SCAN on the repository page draws the severity bar; the Vulnerabilities tab lists the report',
      async () => {
        await page.goto(app(`/harbor/projects/${projectId}/repositories/app/artifacts-tab`));
        const row = page.locator('tr[data-digest]');
        await row.getByText('Not Scanned').waitFor();
        await row.getByRole('checkbox').check();
        await page.getByRole('button', { name: 'Scan', exact: true }).click();
        // The list polls while the scan is queued or running.
        const bar = row.getByRole('img', { name: 'Vulnerability severity: 1 Critical, 1 High' });
        await bar.waitFor({ timeout: 60_000 });
        await row.getByText('2 Total · 2 Fixable').waitFor();
        await screenshot(page, `${backend}-scan-severity-bar`);

        await row.getByRole('link').first().click();
        await page.getByRole('tab', { name: 'Vulnerabilities' }).click();
        const table = page.getByRole('table', { name: 'Vulnerabilities' });
        await table.waitFor();
        const ids = () =>
          table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-cve')));
        assert.deepEqual(await ids(), ['CVE-2025-6965', 'CVE-2022-3715']); // severity: Critical first
        await table.getByRole('button', { name: 'Package' }).click();
        assert.deepEqual(await ids(), ['CVE-2022-3715', 'CVE-2025-6965']); // bash before libsqlite3-0
        const link = table.getByRole('link', { name: 'CVE-2022-3715' });
        assert.match((await link.getAttribute('href')) ?? '', /CVE-2022-3715/);
        await page.getByText('Berth 1.0').waitFor();
        await screenshot(page, `${backend}-scan-report`);
      },
    );

    chromiumStep(
      'Configuration: preventing vulnerable images refuses the pull; a project allowlist exempts it',
      async () => {
        await page.goto(app(`/harbor/projects/${projectId}/configs`));
        await page.getByLabel('Prevent vulnerable images from running').check();
        await page.getByLabel('Prevent images with vulnerability severity of and above').selectOption('high');
        await page.getByRole('button', { name: 'Save' }).click();
        await page.getByRole('status').getByText('Saved.').waitFor();
        // The policy's project list is refreshed every few seconds.
        await waitFor('the pull refused', async () => ((await pullStatus()) === 412 ? true : undefined));

        await page.getByLabel('Project allowlist').check();
        await page.getByLabel('Add CVE IDs').fill('CVE-2025-6965,\nCVE-2022-3715');
        await page.getByRole('button', { name: 'Add', exact: true }).click();
        await page.getByRole('list', { name: 'Allowlisted CVEs' }).getByText('CVE-2022-3715').waitFor();
        await page.getByRole('button', { name: 'Save' }).click();
        await page.getByRole('status').getByText('Saved.').waitFor();
        assert.equal(await pullStatus(), 200);
        const project = await apiAs<{
          metadata: Record<string, string>;
          cve_allowlist: { items: unknown[] };
        }>(berth.url, berth.admin, `/projects/${projectId}`);
        assert.equal(project.metadata.reuse_sys_cve_allowlist, 'false');
        assert.deepEqual(project.cve_allowlist.items, [
          { cve_id: 'CVE-2025-6965' },
          { cve_id: 'CVE-2022-3715' },
        ]);
        await screenshot(page, `${backend}-project-allowlist`);
      },
    );

    chromiumStep(
      'Interrogation Services: a scanner added after Test Connection; the database; the security hub',
      async () => {
        await page.getByRole('link', { name: 'Interrogation Services' }).click();
        const scanners = page.getByRole('table', { name: 'Scanners' });
        await scanners.locator('tr[data-scanner="Berth"]').getByText('Default').waitFor();
        await page.getByRole('button', { name: '+ New Scanner' }).click();
        const dialog = page.getByRole('dialog', { name: 'Add Scanner' });
        await dialog.getByLabel('Name').fill('Adapter');
        await dialog.getByLabel('Endpoint').fill(adapter.url);
        await dialog.getByRole('button', { name: 'Test Connection' }).click();
        await dialog.getByText('Test connection succeeded.').waitFor();
        await dialog.getByRole('button', { name: 'Add' }).click();
        await scanners.locator('tr[data-scanner="Adapter"]').waitFor();
        // The built-in one offers no edit or delete.
        assert.equal(
          await scanners.locator('tr[data-scanner="Berth"]').getByRole('button', { name: 'Delete' }).count(),
          0,
        );

        await page.getByRole('link', { name: 'Vulnerability', exact: true }).click();
        assert.match(await page.getByTestId('vulndb-version').innerText(), /^osv-/);

        await page.getByRole('link', { name: 'Security Hub' }).click();
        await page
          .getByTestId('hub-totals')
          .getByText('1 of 1 artifacts scanned · 2 vulnerabilities · 2 fixable')
          .waitFor();
        await page.getByRole('img', { name: /1 Critical, 1 High, 0 Medium/ }).waitFor();
        const hub = page.getByRole('table', { name: 'Security hub vulnerabilities' });
        await hub.locator('tbody tr').nth(1).waitFor();
        await page.getByLabel('Severity').selectOption('Critical');
        await waitFor('the Critical filter', async () =>
          (await hub.locator('tbody tr').count()) === 1 ? true : undefined,
        );
        await hub.getByText('CVE-2025-6965').waitFor();
        await screenshot(page, `${backend}-security-hub`);
      },
    );

    chromiumStep(
      'Interrogation Services: Scan Now scans what is not scanned yet and shows the finished run',
      async () => {
        await registry.pushImage('sec/other', debianImage(VULNERABLE_PACKAGES, 'scan-all'), 'v1');
        await page.goto(app('/harbor/interrogation-services/vulnerability'));
        const card = page.getByRole('region', { name: 'Scan all' });
        await card.getByText('No scan of all artifacts has run.').waitFor();
        await card.getByRole('button', { name: 'Scan Now' }).click();
        // The card polls while the run goes on; the run ends once every task it queued has.
        await card
          .getByTestId('scan-all-status')
          .filter({ hasText: /^Last scan: 1 of 1 artifacts done.*1 Success.*\(Manual\)$/ })
          .waitFor({ timeout: 60_000 });
        await card.getByRole('button', { name: 'Scan Now', disabled: false }).waitFor();
        const metrics = await apiAs<{ ongoing: boolean; total: number; metrics: Record<string, number> }>(
          berth.url,
          berth.admin,
          '/scans/all/metrics',
        );
        assert.deepEqual([metrics.ongoing, metrics.total, metrics.metrics.Success], [false, 1, 1]);
        await screenshot(page, `${backend}-scan-all`);
      },
    );

    chromiumStep('a scan-all schedule chosen while the saved one is loading is the one saved', async () => {
      const schedulePath = '/system/scanAll/schedule';
      await apiAs(berth.url, berth.admin, schedulePath, {
        method: 'PUT',
        body: { schedule: { type: 'Daily', cron: '0 0 0 * * *' } },
      });
      const card = page.getByRole('region', { name: 'Scan all' });
      const select = card.getByLabel('Schedule to scan all');
      await chooseWhileLoading(
        page,
        () => page.goto(app('/harbor/interrogation-services/vulnerability')),
        /\/api\/v2\.0\/system\/scanAll\/schedule$/,
        select,
        async () => {
          await select.selectOption('Weekly');
        },
      );
      // The saved schedule has arrived (its next run shows): the choice made is still the form's.
      await card.getByText(/Next run:/).waitFor();
      await card.getByRole('button', { name: 'Save' }).click();
      await card.getByText('Schedule saved.').waitFor();
      const saved = await apiAs<{ schedule?: { type: string } }>(berth.url, berth.admin, schedulePath);
      assert.equal(saved.schedule?.type, 'Weekly');
    });

    chromiumStep("a project's Scanner tab shows its scanner; Select Scanner sets another", async () => {
      await page.goto(app(`/harbor/projects/${projectId}/scanner`));
      const current = page.getByTestId('project-scanner');
      const name = current.getByTestId('project-scanner-name');
      await name.filter({ hasText: /^Berth$/ }).waitFor();
      await page.getByRole('button', { name: 'Select Scanner' }).click();
      const dialog = page.getByRole('dialog', { name: 'Select Scanner' });
      const candidates = dialog.getByRole('table', { name: 'Scanner candidates' });
      assert.equal(await candidates.getByRole('radio', { name: 'Berth' }).isChecked(), true);
      await candidates.getByRole('radio', { name: 'Adapter' }).check();
      await dialog.getByRole('button', { name: 'OK' }).click();
      await dialog.waitFor({ state: 'detached' });
      await name.filter({ hasText: /^Adapter$/ }).waitFor();
      await current.getByText(adapter.url).waitFor();
      const chosen = await apiAs<{ name: string }>(berth.url, berth.admin, `/projects/${projectId}/scanner`);
      assert.equal(chosen.name, 'Adapter');
      await screenshot(page, `${backend}-project-scanner`);
    });
  });
}
