// Activity insights in Debian's Chromium against a real Berth: pushes and pulls through /v2 on two days
// (yesterday by an injected clock, then today) are drawn by the Insights page and the project Summary as
// the bars, axis labels and areas counted here; a user with no project sees the empty states.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';
import { hasTool } from '../../helpers/tools.js';
import { waitFor } from '../../helpers/wait.js';
import { builtWebUi, screenshot, type TestBrowser } from '../../helpers/web-ui.js';
import { apiAs, type Creds } from './portal-fixtures.js';
import { chromiumStep, signIn, signedInChromium } from './portal-pages-fixtures.js';

const dayMs = 86_400_000;

/** The chart card titled `title`: its drawn bars (zero-height bars are not drawn) and axis labels. */
function chart(page: Page, title: string) {
  const card: Locator = page.locator(`section[data-chart="${title}"]`);
  return {
    card,
    bars: () => card.locator('path.recharts-rectangle').count(),
    labels: (axis: 'x' | 'y') =>
      card.locator(`.recharts-${axis}Axis-tick-labels .recharts-cartesian-axis-tick-value`).allTextContents(),
  };
}

for (const backend of backends()) {
  describe(`portal insights in Chromium (${backend})`, () => {
    let berth: RunningBerth;
    let chrome: TestBrowser;
    let admin: Creds;
    let page: Page;
    let projectId = 0;
    // Yesterday while the first pushes and pulls happen, then the real time (sessions stay valid).
    let offset = -dayMs;
    const clock = { now: () => new Date(Date.now() + offset) };
    const app = (path: string) => `${berth.url}${path}`;

    before(async () => {
      if (!hasTool('chromium')) return;
      berth = await startBerth({ backend, clock, overrides: { ui: { dir: await builtWebUi() } } });
      admin = berth.admin;
      await apiAs(berth.url, admin, '/projects', {
        method: 'POST',
        body: { project_name: 'web', public: false },
      });
      projectId = (await apiAs<{ project_id: number }>(berth.url, admin, '/projects/web')).project_id;
      await apiAs(berth.url, admin, '/users', {
        method: 'POST',
        body: { username: 'carol', password: 'Carol-Pass1', email: 'carol@example.com', realname: 'Carol' },
      });
      const registry = new RegistryClient(berth.url, { auth: admin });
      const pull = async (ref: string) => {
        const res = await registry.fetch(`/v2/web/app/manifests/${ref}`);
        await res.body?.cancel();
        assert.equal(res.status, 200);
      };
      // Yesterday: 2 pushes, 3 pulls. Today: 1 push, 1 pull.
      await registry.pushImage('web/app', makeImage({ layerSize: 4096 }), '1');
      await registry.pushImage('web/lib', makeImage({ layerSize: 2048 }), '1');
      for (let i = 0; i < 3; i++) await pull('1');
      await waitFor('yesterday counted', async () => {
        const o = await apiAs<{ totals: { pulls: number } }>(berth.url, admin, '/insights?days=2');
        return o.totals.pulls === 3;
      });
      offset = 0;
      await registry.pushImage('web/lib', makeImage({ layerSize: 1024 }), '2');
      await pull('1');
      await waitFor('today counted', async () => {
        const o = await apiAs<{ totals: { pulls: number; pushes: number } }>(
          berth.url,
          admin,
          '/insights?days=2',
        );
        return o.totals.pulls === 4 && o.totals.pushes === 3;
      });
      ({ chrome, page } = await signedInChromium(berth, admin));
    });
    after(async () => {
      await chrome?.close();
      await berth?.close();
    });

    chromiumStep(
      'Insights draws activity, storage, top repositories and users from the pushes and pulls',
      async () => {
        await page.getByRole('link', { name: 'Insights' }).click();
        await page.getByRole('heading', { name: 'Insights' }).waitFor();
        await page.getByText('All projects', { exact: false }).waitFor();
        await page.getByRole('region', { name: 'Pulls' }).getByText('4', { exact: true }).waitFor();
        await page.getByRole('region', { name: 'Pushes' }).getByText('3', { exact: true }).waitFor();

        const activity = chart(page, 'Pull and push activity');
        await activity.card.locator('path.recharts-rectangle').first().waitFor();
        // Two days with pulls and pushes each: four bars over the 30 days.
        assert.equal(await activity.bars(), 4);
        assert.deepEqual(await activity.card.locator('.recharts-legend-item-text').allTextContents(), [
          'Pulls',
          'Pushes',
        ]);

        const repos = chart(page, 'Top repositories');
        assert.deepEqual(await repos.labels('y'), ['web/app', 'web/lib']);
        assert.equal(await repos.bars(), 3); // web/app: pulls and a push; web/lib: pushes only

        const users = chart(page, 'Most active users');
        assert.deepEqual(await users.labels('y'), ['admin']);
        assert.equal(await users.bars(), 2);

        const storage = chart(page, 'Storage by project');
        assert.deepEqual(await storage.labels('y'), ['web']);
        assert.equal(await storage.bars(), 1);

        const trend = chart(page, 'Storage over time');
        assert.equal(await trend.card.locator('path.recharts-area-area').count(), 1);

        await chart(page, 'Vulnerability trend')
          .card.getByText(/once artifacts are scanned/)
          .waitFor();
        await screenshot(page, `${backend}-insights`);

        // A week: the same bars, seven days on the axis' data.
        await page.getByLabel('Period').selectOption('7');
        await waitFor('the 7-day range drawn', async () => (await activity.labels('x')).length <= 7 && true);
        // recharts redraws the bars after the axis: wait for them rather than count mid-redraw.
        await waitFor('the 7-day range draws its 4 bars', async () => (await activity.bars()) === 4);
      },
    );

    chromiumStep("the project Summary shows the project's own activity and storage", async () => {
      await page.goto(app(`/harbor/projects/${projectId}/summary`));
      const region = page.getByRole('region', { name: 'Project activity' });
      await region.locator('path.recharts-rectangle').first().waitFor();
      assert.equal(
        await region.locator('section[data-chart="Pull and push activity"] path.recharts-rectangle').count(),
        4,
      );
      assert.equal(await region.locator('path.recharts-area-area').count(), 1);
      assert.deepEqual(
        await region
          .locator(
            'section[data-chart="Top repositories"] .recharts-yAxis-tick-labels .recharts-cartesian-axis-tick-value',
          )
          .allTextContents(),
        ['web/app', 'web/lib'],
      );
      await screenshot(page, `${backend}-project-summary-insights`);
    });

    chromiumStep('a user in no project sees the empty states, nothing of web', async () => {
      const carol = await signIn(await chrome.context(), berth.url, {
        username: 'carol',
        password: 'Carol-Pass1',
      });
      await carol.goto(app('/harbor/insights'));
      await carol.getByText('Your projects', { exact: false }).waitFor();
      await carol.getByText('No pushes or pulls in this period.').waitFor();
      await carol.getByText('No repository was pushed or pulled.').waitFor();
      assert.equal(await carol.locator('path.recharts-rectangle').count(), 0);
      assert.equal(await carol.getByText('web/app').count(), 0);
      await carol.close();
    });
  });
}
