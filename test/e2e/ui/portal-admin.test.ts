// Administration in Debian's Chromium against a real Berth: Configuration (run-time settings saved,
// file-held ones read-only), users and groups, the audit log (project Logs tab and Audit Logs), a
// replication stopped while it runs, and a registry endpoint edited in place.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';
import { hasTool } from '../../helpers/tools.js';
import { builtWebUi, screenshot, type TestBrowser } from '../../helpers/web-ui.js';
import { apiAs, type Creds } from './portal-fixtures.js';
import { chromiumStep, signedInChromium } from './portal-pages-fixtures.js';

for (const backend of backends()) {
  describe(`portal administration in Chromium (${backend})`, () => {
    let berth: RunningBerth;
    let chrome: TestBrowser;
    let admin: Creds;
    let page: Page;
    let projectId = 0;
    const app = (path: string) => `${berth.url}${path}`;

    before(async () => {
      if (!hasTool('chromium')) return;
      berth = await startBerth({ backend, overrides: { ui: { dir: await builtWebUi() } } });
      admin = berth.admin;
      await apiAs(berth.url, admin, '/projects', { method: 'POST', body: { project_name: 'ops' } });
      projectId = (await apiAs<{ project_id: number }>(berth.url, admin, '/projects/ops')).project_id;
      await new RegistryClient(berth.url, { auth: admin }).pushImage('ops/app', makeImage(), '1');
      ({ chrome, page } = await signedInChromium(berth, admin));
    });
    after(async () => {
      await chrome?.close();
      await berth?.close();
    });

    chromiumStep(
      'Administration → Configuration saves robot expiry and shows file-held settings read-only',
      async () => {
        await page.goto(app('/harbor/configs'));
        assert.equal(await page.getByLabel('Auth Mode').isDisabled(), true);
        await page.getByLabel('Robot Token Expiration (days)').fill('60');
        await page.getByRole('button', { name: 'Save' }).click();
        await page.getByText('Configuration saved.').waitFor();
        const config = await apiAs<Record<string, { value: unknown }>>(berth.url, admin, '/configurations');
        assert.equal(config.robot_token_duration?.value, 60);
        await page.getByLabel('Robot Token Expiration (days)').fill('0');
        await page.getByRole('button', { name: 'Save' }).click();
        await page
          .getByRole('alert')
          .getByText(/at least 1 day/)
          .waitFor();
        await screenshot(page, `${backend}-admin-configuration`);
      },
    );

    chromiumStep('Users: make an admin, reset a password, delete; Groups: create one', async () => {
      await apiAs(berth.url, admin, '/users', {
        method: 'POST',
        body: { username: 'ann', email: 'ann@example.com', realname: 'Ann', password: 'Ann-Pass-1234' },
      });
      await page.goto(app('/harbor/users'));
      const ann = page.getByRole('row', { name: /ann@example.com/ });
      await ann.getByRole('button', { name: 'Set as Admin' }).click();
      await ann.getByRole('cell', { name: 'Yes', exact: true }).waitFor();
      await ann.getByRole('button', { name: 'Reset Password' }).click();
      await page.getByLabel('New Password').fill('Ann-New-Pass-99');
      await page.getByRole('dialog').getByRole('button', { name: 'OK' }).click();
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      const me = await apiAs<{ sysadmin_flag: boolean }>(
        berth.url,
        { username: 'ann', password: 'Ann-New-Pass-99' },
        '/users/current',
      );
      assert.equal(me.sysadmin_flag, true);
      await ann.getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
      await ann.waitFor({ state: 'detached' });

      await page.goto(app('/harbor/groups'));
      await page.getByRole('button', { name: '+ New Group' }).click();
      await page.getByLabel('Type').selectOption('3');
      await page.getByLabel('Name').fill('devs');
      await page.getByRole('dialog').getByRole('button', { name: 'OK' }).click();
      await page.getByRole('cell', { name: 'devs', exact: true }).waitFor();
    });

    chromiumStep(
      "the project's Logs and Administration → Audit Logs list what was done, filterable",
      async () => {
        await page.goto(app(`/harbor/projects/${projectId}/logs`));
        // The audit log is written in batches off the request path: reload until the push shows.
        const pushed = page.getByRole('row', { name: /ops\/app/ }).first();
        for (let i = 0; i < 20 && !(await pushed.isVisible()); i++) {
          await page.waitForTimeout(500);
          await page.reload();
        }
        await pushed.waitFor();
        await page.goto(app('/harbor/logs'));
        await page.getByLabel('Filter field').selectOption('resource');
        await page.getByLabel('Filter value').fill('ann');
        // The filter applies when the list comes back from the API: wait for the other rows to go.
        await page
          .getByRole('row', { name: /ops\/app/ })
          .first()
          .waitFor({ state: 'detached' });
        await page.getByRole('row', { name: /ann/ }).first().waitFor();
        await screenshot(page, `${backend}-audit-logs`);
      },
    );

    chromiumStep('a running replication is stopped from its executions list', async () => {
      // A destination that accepts connections and never answers keeps the execution running.
      const held: Socket[] = [];
      const silent = createServer((socket) => void held.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const port = (silent.address() as AddressInfo).port;
        await apiAs(berth.url, admin, '/registries', {
          method: 'POST',
          body: { name: 'silent', type: 'docker-registry', url: `http://127.0.0.1:${port}` },
        });
        const registries = await apiAs<{ id: number; name: string }[]>(berth.url, admin, '/registries');
        await apiAs(berth.url, admin, '/replication/policies', {
          method: 'POST',
          body: {
            name: 'to-silent',
            dest_registry: { id: registries.find((r) => r.name === 'silent')!.id },
            filters: [{ type: 'name', value: 'ops/app' }],
            trigger: { type: 'manual' },
            enabled: true,
          },
        });
        await page.goto(app('/harbor/replications'));
        await page.getByRole('button', { name: 'to-silent' }).click();
        await page
          .getByRole('row', { name: /to-silent/ })
          .getByRole('button', { name: 'Replicate' })
          .click();
        const executions = page.getByRole('region', { name: 'Executions' });
        await executions.getByRole('button', { name: 'Stop' }).click({ timeout: 30_000 });
        await executions.locator('[data-status]').filter({ hasText: /stop/i }).waitFor({ timeout: 30_000 });
      } finally {
        for (const socket of held) socket.destroy();
        silent.close();
      }
    });

    chromiumStep('a registry endpoint is edited in place', async () => {
      await apiAs(berth.url, admin, '/registries', {
        method: 'POST',
        body: { name: 'hub', type: 'docker-registry', url: 'http://127.0.0.1:1' },
      });
      await page.goto(app('/harbor/registries'));
      await page.getByRole('row', { name: /hub/ }).getByRole('button', { name: 'Edit' }).click();
      await page.getByLabel('Description').fill('the team mirror');
      await page.getByRole('button', { name: 'OK' }).click();
      await page.getByRole('row', { name: /hub/ }).getByText('the team mirror').waitFor();
      const list = await apiAs<{ name: string; description: string }[]>(berth.url, admin, '/registries');
      assert.equal(list.find((r) => r.name === 'hub')?.description, 'the team mirror');
    });
  });
}
