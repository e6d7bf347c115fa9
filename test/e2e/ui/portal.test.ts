// The portal end to end in Debian's Chromium, against a real Berth, real skopeo and a real
// docker-registry: what an administrator, a Guest and a non-member each can see and do.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { containerTools, type ContainerTools } from '../../helpers/containers.js';
import { startDockerRegistry, type RunningDockerRegistry } from '../../helpers/docker-registry.js';
import { OciLayout, tempDir } from '../../helpers/images.js';
import { hasTool, needTools } from '../../helpers/tools.js';
import {
  builtWebUi,
  failureEvidence,
  launchChromium,
  screenshot,
  watchApi,
  type TestBrowser,
} from '../../helpers/web-ui.js';
import { adminOf, apiAs, buildSteps, imageWithHistory, registryTags, type Creds } from './portal-fixtures.js';
import { signIn } from './portal-pages-fixtures.js';

const TOOLS = ['chromium', 'skopeo', 'docker-registry'];
const guest: Creds = { username: 'gina', password: 'Guest-Pass-123' };
const outsider: Creds = { username: 'otto', password: 'Outsider-Pass-123' };

for (const backend of backends()) {
  describe(`portal in Chromium (${backend})`, () => {
    let berth: RunningBerth;
    let chrome: TestBrowser;
    let registry: RunningDockerRegistry;
    let tools: ContainerTools;
    let work: string;
    let admin: Creds;
    let page: Page;
    let projectId = 0;
    let robotSecret = '';
    let robotName = '';
    let digest = '';
    const ready = TOOLS.every(hasTool);

    before(async () => {
      if (!ready) return;
      berth = await startBerth({ backend, overrides: { ui: { dir: await builtWebUi() } } });
      admin = adminOf(berth);
      registry = await startDockerRegistry();
      chrome = await launchChromium();
      tools = containerTools();
      work = tempDir('portal');
    });
    after(async () => {
      await chrome?.close();
      await registry?.stop();
      await berth?.close();
      tools?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });
    const app = (path: string) => `${berth.url}${path}`;
    // The steps build on each other: after one fails, the rest fail at once instead of each waiting out
    // its timeouts.
    let failed: string | undefined;
    const step = (name: string, fn: () => Promise<void>) =>
      test(name, async (t) => {
        if (!needTools(t, ...TOOLS)) return;
        if (failed) throw new Error(`not run: the step "${failed}" failed`);
        try {
          await fn();
        } catch (err) {
          failed = name;
          if (page && err instanceof Error) {
            const evidence = await failureEvidence(page, `${backend}-failed`);
            err.message += evidence;
            err.stack = `${err.stack ?? ''}${evidence}`; // the runner prints the stack, made before this
          }
          throw err;
        }
      });

    step('admin signs in and lands on the projects list', async () => {
      page = await signIn(await chrome.context(), berth.url, admin);
      watchApi(page);
      await page.getByRole('link', { name: 'library' }).waitFor();
      await screenshot(page, `${backend}-projects`);
    });

    step('admin creates a private project; the name is checked while typing', async () => {
      await page.getByRole('button', { name: '+ New Project' }).click();
      const name = page.getByLabel('Project Name');
      await name.fill('Bad_Name');
      await page.getByText('Use lower-case letters only').waitFor();
      await name.fill('library');
      await page.getByText('Project "library" already exists').waitFor();
      assert.equal(await page.getByRole('button', { name: 'OK' }).isDisabled(), true);
      await name.fill('webapp');
      await page.getByRole('button', { name: 'OK' }).click();
      await page.waitForURL(/\/harbor\/projects\/\d+\/repositories$/);
      projectId = Number(/projects\/(\d+)\//.exec(page.url())![1]);
      await page.getByText('No repositories yet').waitFor();
      await page
        .getByRole('heading', { name: /webapp/ })
        .getByText('Private')
        .waitFor();
      const project = await apiAs<{ metadata?: { public?: string } }>(berth.url, admin, '/projects/webapp');
      assert.equal(project.metadata?.public, 'false');
    });

    step('admin creates a user in Administration and adds them to the project as Guest', async () => {
      await page.goto(app('/harbor/users'));
      await page.getByRole('button', { name: '+ New User' }).click();
      await page.getByLabel('Username').fill(guest.username);
      await page.getByLabel('Email').fill('gina@example.com');
      await page.getByLabel('Full Name').fill('Gina Guest');
      await page.getByLabel('Password', { exact: true }).fill(guest.password);
      await page.getByRole('button', { name: 'OK' }).click();
      await page.getByRole('cell', { name: guest.username, exact: true }).waitFor();
      await apiAs(berth.url, admin, '/users', {
        method: 'POST',
        body: {
          username: outsider.username,
          email: 'otto@example.com',
          realname: 'Otto',
          password: outsider.password,
        },
      });

      await page.goto(app(`/harbor/projects/${projectId}/members`));
      await page.getByRole('button', { name: '+ User' }).click();
      await page.getByLabel('Name').fill(guest.username);
      await page.getByLabel('Guest', { exact: true }).check();
      await page.getByRole('button', { name: 'OK' }).click();
      const role = page.getByLabel(`Role of ${guest.username}`);
      await role.waitFor();
      assert.equal(await role.inputValue(), '3');
      const members = await apiAs<{ entity_name: string; role_id: number }[]>(
        berth.url,
        admin,
        `/projects/${projectId}/members`,
      );
      assert.equal(members.find((m) => m.entity_name === guest.username)?.role_id, 3);
    });

    step('admin creates a robot account and reads its secret exactly once', async () => {
      await page.goto(app(`/harbor/projects/${projectId}/robot-account`));
      await page.getByRole('button', { name: '+ New Robot Account' }).click();
      await page.getByLabel('Name', { exact: true }).fill('ci');
      await page.getByLabel('Expiration (days)').fill('7');
      await page.getByRole('button', { name: 'Add' }).click();
      robotSecret = (await page.getByTestId('robot-secret').textContent()) ?? '';
      robotName = (await page.getByTestId('robot-name').textContent()) ?? '';
      assert.ok(robotSecret.length >= 8, 'a secret is shown');
      assert.match(robotName, /ci$/);
      await screenshot(page, `${backend}-robot-secret`);
      await page.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('cell', { name: new RegExp(`^${robotName.replace(/[$+]/g, '\\$&')}`) }).waitFor();
      assert.equal((await page.content()).includes(robotSecret), false, 'the secret is gone from the page');
    });

    step('an image pushed with skopeo as the robot shows its tags and build history', async () => {
      const layout = new OciLayout(`${work}/layout`);
      digest = imageWithHistory(layout, 'v1').manifest.digest;
      await tools.skopeo([
        'copy',
        '--dest-tls-verify=false',
        `--dest-creds=${robotName}:${robotSecret}`,
        layout.ref('v1'),
        `docker://${berth.host}/webapp/api:v1`,
      ]);
      await page.goto(app(`/harbor/projects/${projectId}/repositories`));
      await page.getByRole('link', { name: 'webapp/api' }).click();
      const row = page.locator(`tr[data-digest="${digest}"]`);
      await row.getByText('v1', { exact: true }).waitFor();
      await screenshot(page, `${backend}-repository`);
      await row.getByRole('link').first().click();
      await page.getByRole('tab', { name: 'Build History' }).click();
      const history = page.getByRole('table', { name: 'Build history' });
      for (const step of buildSteps) await history.getByText(step).waitFor();
      await screenshot(page, `${backend}-artifact-history`);
    });

    step('admin adds a tag on the artifact page and the registry serves it', async () => {
      await page.getByRole('tab', { name: 'Tags' }).click();
      await page.getByLabel('New tag').fill('stable');
      await page.getByRole('button', { name: 'Add Tag' }).click();
      await page.getByRole('table', { name: 'Tags' }).getByRole('cell', { name: 'stable' }).waitFor();
      assert.deepEqual(await registryTags(berth.url, 'webapp/api', admin), ['stable', 'v1']);
    });

    step('admin adds a docker-registry endpoint after TEST CONNECTION succeeds', async () => {
      await page.goto(app('/harbor/registries'));
      await page.getByRole('button', { name: '+ New Endpoint' }).click();
      await page.getByLabel('Provider').selectOption('docker-registry');
      await page.getByLabel('Name').fill('mirror');
      await page.getByLabel('Endpoint URL').fill('http://127.0.0.1:1');
      await page.getByRole('button', { name: 'Test Connection' }).click();
      await page
        .getByTestId('ping-result')
        .getByText(/Connection failed: .+/)
        .waitFor();
      await page.getByLabel('Endpoint URL').fill(registry.url);
      await page.getByRole('button', { name: 'Test Connection' }).click();
      await page.getByTestId('ping-result').getByText('Connection tested successfully.').waitFor();
      await page.getByRole('button', { name: 'OK' }).click();
      await page.getByRole('cell', { name: 'mirror', exact: true }).waitFor();
      await screenshot(page, `${backend}-registries`);
    });

    step('admin creates and runs a replication rule and watches it succeed', async () => {
      await page.goto(app('/harbor/replications'));
      await page.getByRole('button', { name: '+ New Replication Rule' }).click();
      await page.getByLabel('Name', { exact: true }).fill('to-mirror');
      await page.getByLabel('Destination registry').selectOption({ label: `mirror (${registry.url})` });
      await page.getByLabel('Source resource filter: Name').fill('webapp/**');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('button', { name: 'to-mirror' }).waitFor();
      const [started] = await Promise.all([
        page.waitForResponse(
          (r) =>
            r.request().method() === 'POST' &&
            new URL(r.url()).pathname === '/api/v2.0/replication/executions',
        ),
        page.getByRole('button', { name: 'Replicate' }).click(),
      ]);
      if (started.status() !== 201) {
        assert.fail(
          `starting the rule answered ${started.status()}: ${await started.text().catch(() => '')}`,
        );
      }
      const status = page.locator('section[aria-label="Executions"] [data-status]').first();
      await status.waitFor();
      await page.waitForFunction(
        () =>
          /succeed|success/i.test(
            document
              .querySelector('section[aria-label="Executions"] [data-status]')
              ?.getAttribute('data-status') ?? '',
          ),
        undefined,
        { timeout: 60_000 },
      );
      await screenshot(page, `${backend}-replication`);
      await page
        .locator('section[aria-label="Executions"] tbody tr')
        .first()
        .getByRole('button')
        .first()
        .click();
      await page.getByRole('table', { name: 'Tasks' }).getByRole('button', { name: 'Log' }).first().click();
      assert.notEqual((await page.getByTestId('task-log').textContent())?.trim(), '');
      assert.deepEqual(await registryTags(registry.url, 'webapp/api'), ['stable', 'v1']);
    });

    step('a Guest sees the project but no push or delete controls', async () => {
      const p = await signIn(await chrome.context(), berth.url, guest);
      await p.getByRole('link', { name: 'webapp' }).click();
      await p.getByRole('link', { name: 'webapp/api' }).waitFor();
      assert.equal(await p.getByRole('button', { name: /PUSH COMMAND/ }).count(), 0);
      assert.equal(await p.getByRole('button', { name: 'Delete' }).count(), 0);
      await p.getByRole('link', { name: 'webapp/api' }).click();
      await p.locator(`tr[data-digest="${digest}"]`).waitFor();
      assert.equal(await p.getByRole('button', { name: /^Delete/ }).count(), 0);
      assert.equal(await p.getByRole('checkbox').count(), 0);
      await p.locator(`tr[data-digest="${digest}"]`).getByRole('link').first().click();
      await p.getByRole('tab', { name: 'Tags' }).click();
      await p.getByRole('table', { name: 'Tags' }).waitFor();
      assert.equal(await p.getByRole('button', { name: 'Add Tag' }).count(), 0);
      assert.equal(await p.getByRole('button', { name: 'Remove' }).count(), 0);
      await screenshot(p, `${backend}-guest-artifact`);
    });

    step('a signed-in non-member finds no private project', async () => {
      const p = await signIn(await chrome.context(), berth.url, outsider);
      await p.getByRole('link', { name: 'library' }).waitFor();
      assert.equal(await p.getByRole('link', { name: 'webapp' }).count(), 0);
      await p.goto(app(`/harbor/projects/${projectId}/repositories`));
      await p.getByRole('alert').waitFor();
      assert.equal(await p.getByRole('link', { name: 'webapp/api' }).count(), 0);
    });

    step('signing out ends the session', async () => {
      await page.goto(app('/harbor/projects'));
      await page.getByTestId('user-menu').click();
      await page.getByRole('menuitem', { name: 'Log Out' }).click();
      await page.waitForURL(/\/account\/sign-in/);
      await page.goto(app('/harbor/projects'));
      await page.waitForURL(/\/account\/sign-in/);
    });
  });
}
