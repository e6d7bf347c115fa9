// Project → Webhooks in Debian's Chromium against a real Berth and a receiver on 127.0.0.1: a policy made in
// the dialog (its test button delivers a test event), a push delivered and shown as an execution with its
// task log and as the last trigger, a disabled policy no longer delivering, and a Maintainer seeing the
// policies without the edit controls.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';
import { hasTool } from '../../helpers/tools.js';
import { readBack, waitFor } from '../../helpers/wait.js';
import { builtWebUi, screenshot, type TestBrowser } from '../../helpers/web-ui.js';
import { startReceiver, type Receiver } from '../../integration/webhooks/receiver.js';
import { apiAs } from './portal-fixtures.js';
import { chromiumStep, signedInChromium, signIn } from './portal-pages-fixtures.js';

type Policy = {
  id: number;
  name: string;
  enabled: boolean;
  update_time: string;
  event_types: string[];
  targets: { type: string; address: string; auth_header?: string; payload_format?: string }[];
};

for (const backend of backends()) {
  describe(`portal Webhooks in Chromium (${backend})`, () => {
    let berth: RunningBerth;
    let chrome: TestBrowser;
    let page: Page;
    let rx: Receiver;
    let projectId = 0;
    const tab = () => `${berth.url}/harbor/projects/${projectId}/webhook`;
    const policies = () => apiAs<Policy[]>(berth.url, berth.admin, `/projects/${projectId}/webhook/policies`);
    const table = () => page.getByRole('table', { name: 'Webhooks' });
    const push = (tag: string) =>
      new RegistryClient(berth.url, { auth: berth.admin }).pushImage('hooks/app', makeImage(), tag);
    // ci receives CloudEvents (type harbor.artifact.pushed), the witness Harbor's Default JSON.
    const pushesTo = (path: string) =>
      rx
        .on(path)
        .filter((r) =>
          ['PUSH_ARTIFACT', 'harbor.artifact.pushed'].includes(
            (JSON.parse(r.body) as { type?: string }).type ?? '',
          ),
        );

    before(async () => {
      if (!hasTool('chromium')) return;
      rx = await startReceiver();
      berth = await startBerth({
        backend,
        overrides: {
          ui: { dir: await builtWebUi() },
          webhooks: { retryDelayMs: 100, timeoutSeconds: 2, maxAttempts: 3, pullBatchMs: 100 },
          jobs: { pollIntervalMs: 100 },
        },
      });
      await apiAs(berth.url, berth.admin, '/projects', { method: 'POST', body: { project_name: 'hooks' } });
      projectId = (await apiAs<{ project_id: number }>(berth.url, berth.admin, '/projects/hooks')).project_id;
      ({ chrome, page } = await signedInChromium(berth, berth.admin));
    });
    after(async () => {
      await chrome?.close();
      await berth?.close();
      await rx?.close();
    });

    chromiumStep('a policy is made in the dialog; its test button delivers a test event', async () => {
      await page.goto(`${berth.url}/harbor/projects/${projectId}/repositories`);
      await page.getByRole('link', { name: 'Webhooks' }).click();
      await page.waitForURL(/\/webhook$/);
      await page.getByText('No webhooks').waitFor();
      await page.getByRole('button', { name: '+ New Webhook' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Name').fill('ci');
      await dialog.getByLabel('Endpoint URL').fill(`${rx.url}/ci`);
      await dialog.getByLabel('Auth Header').fill('Bearer s3cret');
      await dialog.getByLabel('Payload Format').selectOption('CloudEvents');
      for (const type of ['PULL_ARTIFACT', 'DELETE_ARTIFACT'])
        await dialog.getByRole('checkbox', { name: type }).uncheck();
      await dialog.getByRole('button', { name: 'Test Endpoint' }).click();
      await dialog.getByText('Test event delivered.').waitFor();
      assert.equal(rx.on('/ci').length, 1, 'the test button sent one event');
      assert.equal(rx.on('/ci')[0]!.headers.authorization, 'Bearer s3cret');
      await dialog.getByRole('button', { name: 'Add', exact: true }).click();
      await table().getByRole('cell', { name: 'ci', exact: true }).waitFor();
      await table()
        .getByRole('cell', { name: `${rx.url}/ci` })
        .waitFor();
      const [made] = await policies();
      assert.equal(made!.enabled, true);
      assert.ok(made!.event_types.includes('PUSH_ARTIFACT'));
      assert.ok(!made!.event_types.includes('PULL_ARTIFACT'));
      assert.deepEqual(made!.targets[0], {
        type: 'http',
        address: `${rx.url}/ci`,
        auth_header: 'Bearer s3cret',
        skip_cert_verify: false,
        payload_format: 'CloudEvents',
      });
    });

    chromiumStep(
      'a push is delivered and shows as an execution with its log and the last trigger',
      async () => {
        // The test event of the step before counts as a push; this push's delivery comes from the delivery
        // thread, which starts with this first push: wait for it, and for its outcome to be committed.
        const delivered = pushesTo('/ci').length;
        await push('v1');
        await waitFor('the push delivered', () => pushesTo('/ci').length > delivered);
        await waitFor('its execution succeeded', async () => {
          const policies = await apiAs<{ id: number }[]>(
            berth.url,
            berth.admin,
            `/projects/${projectId}/webhook/policies`,
          );
          const runs = await apiAs<{ status: string }[]>(
            berth.url,
            berth.admin,
            `/projects/${projectId}/webhook/policies/${policies[0]!.id}/executions`,
          );
          return runs.some((r) => r.status === 'Success');
        });
        await page.goto(tab());
        await table().getByRole('button', { name: 'Executions' }).click();
        const executions = page.getByRole('table', { name: 'Webhook executions' });
        await executions.getByRole('cell', { name: 'PUSH_ARTIFACT' }).waitFor();
        await executions.getByText('Success').waitFor();
        await executions.getByRole('row').nth(1).getByRole('button').click();
        await page.getByRole('dialog').getByRole('button', { name: 'Log' }).click();
        await page
          .getByTestId('task-log')
          .getByText(/sent the http request to .*\/ci: 200/)
          .waitFor();
        await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
        const last = page.getByRole('table', { name: 'Last trigger' });
        const pushRow = last.getByRole('row').filter({ hasText: 'PUSH_ARTIFACT' });
        await pushRow.waitFor();
        assert.doesNotMatch(await pushRow.innerText(), /Never/);
        await screenshot(page, `${backend}-webhooks`);
      },
    );

    chromiumStep('a disabled policy delivers nothing while an enabled one does', async () => {
      await apiAs(berth.url, berth.admin, `/projects/${projectId}/webhook/policies`, {
        method: 'POST',
        body: {
          name: 'witness',
          enabled: true,
          event_types: ['PUSH_ARTIFACT'],
          targets: [{ type: 'http', address: `${rx.url}/witness` }],
        },
      });
      await page.goto(tab());
      const ci = table()
        .getByRole('row')
        .filter({ hasText: `${rx.url}/ci` });
      const put = page.waitForResponse(
        (r) => r.request().method() === 'PUT' && /\/webhook\/policies\/\d+$/.test(r.url()),
      );
      const clicked = new Date().toISOString();
      await ci.getByRole('button', { name: 'Disable' }).click();
      await put;
      const answered = new Date().toISOString();
      await ci.getByText('Disabled').waitFor();
      // The UI shows Disabled only from the list it fetched after the PUT answered: the API says the same.
      // A late read prints what each read saw: the PUT's update_time lies between `clicked` and `answered`;
      // enabled:true with an older one says the write was not yet visible, with a newer one that something
      // wrote the policy again.
      const reads: string[] = [];
      await readBack(
        'ci disabled',
        async () => {
          const policy = (await policies()).find((p) => p.name === 'ci')!;
          reads.push(`enabled:${policy.enabled} update_time:${policy.update_time}`);
          return !policy.enabled;
        },
        5_000,
        () => `(${reads.join('; ')}; Disable clicked ${clicked}, its PUT answered ${answered})`,
      );
      const before = pushesTo('/ci').length;
      await push('v2');
      // Both policies' deliveries are written with the push; once the witness has its event, ci would have too.
      await waitFor('the witness delivery', () => pushesTo('/witness').length > 0);
      assert.equal(pushesTo('/ci').length, before, 'no delivery to the disabled policy');
      await ci.getByRole('button', { name: 'Enable' }).click();
      await ci.getByText('Enabled').waitFor();
    });

    chromiumStep('a Maintainer sees the policies but no edit controls; admin deletes one', async () => {
      await apiAs(berth.url, berth.admin, '/users', {
        method: 'POST',
        body: { username: 'mia', email: 'mia@example.com', realname: 'Mia', password: 'Mia-Pass-12345' },
      });
      await apiAs(berth.url, berth.admin, `/projects/${projectId}/members`, {
        method: 'POST',
        body: { role_id: 4, member_user: { username: 'mia' } },
      });
      const mia = await signIn(await chrome.context(), berth.url, {
        username: 'mia',
        password: 'Mia-Pass-12345',
      });
      await mia.goto(tab());
      const list = mia.getByRole('table', { name: 'Webhooks' });
      await list.getByRole('cell', { name: 'witness', exact: true }).waitFor();
      assert.equal(await mia.getByRole('button', { name: '+ New Webhook' }).count(), 0);
      assert.equal(await list.getByRole('button', { name: /^(Edit|Disable|Enable|Delete)$/ }).count(), 0);

      await page.goto(tab());
      const witness = table()
        .getByRole('row')
        .filter({ hasText: `${rx.url}/witness` });
      await witness.getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
      await witness.waitFor({ state: 'detached' });
      assert.deepEqual(
        (await policies()).map((p) => p.name),
        ['ci'],
      );
    });
  });
}
