// The portal under oidc_auth in Debian's Chromium, against a real OpenID provider: "Login via OIDC
// provider", then the profile's CLI secret (hidden until shown, copied to the clipboard, replaced by a
// new one) working as the password of the registry.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { startOidcProvider, type RunningOidcProvider } from '../../helpers/oidc-provider.js';
import { hasTool, needTools } from '../../helpers/tools.js';
import { builtWebUi, launchChromium, screenshot, type TestBrowser } from '../../helpers/web-ui.js';

const olivia = { username: 'olivia', password: 'Olivia-Pass-1', email: 'olivia@example.test' };

/** The registry's answer to `docker login` with this password: 200 when it is accepted. */
async function registryLogin(berth: RunningBerth, password: string): Promise<number> {
  const auth = Buffer.from(`${olivia.username}:${password}`).toString('base64');
  const res = await fetch(`${berth.url}/v2/`, { headers: { authorization: `Basic ${auth}` } });
  await res.body?.cancel();
  return res.status;
}

// The flow does not depend on the database (portal.test.ts covers both); SQLite keeps this one short.
for (const backend of backends().slice(0, 1)) {
  describe(`portal with an OIDC provider in Chromium (${backend})`, () => {
    let idp: RunningOidcProvider;
    let berth: RunningBerth;
    let chrome: TestBrowser;
    let page: Page;
    const ready = hasTool('chromium');

    before(async () => {
      if (!ready) return;
      idp = await startOidcProvider({ users: [olivia] });
      berth = await startBerth({
        backend,
        overrides: {
          ui: { dir: await builtWebUi() },
          auth: {
            mode: 'oidc_auth',
            oidc: {
              name: 'Test IdP',
              issuer: idp.issuer,
              clientId: idp.clientId,
              clientSecret: idp.clientSecret,
              allowInsecureHttp: true,
            },
          },
        },
      });
      idp.allowRedirectUri(`${berth.url}/c/oidc/callback`);
      chrome = await launchChromium();
    });
    after(async () => {
      await chrome?.close();
      await berth?.close();
      await idp?.stop();
    });

    test('a user signs in through the OIDC provider and lands on the projects list', async (t) => {
      if (!needTools(t, 'chromium')) return;
      const ctx = await chrome.context();
      await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: berth.url });
      page = await ctx.newPage();
      await page.goto(`${berth.url}/harbor/projects`);
      await page.waitForURL(/\/account\/sign-in/);
      await page.getByRole('link', { name: 'Login via OIDC provider (Test IdP)' }).click();
      await page.locator('input[name="login"]').fill(olivia.username);
      await page.locator('input[name="password"]').fill(olivia.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL(/\/harbor\/projects$/);
      await page.getByRole('heading', { name: 'Projects' }).waitFor();
      assert.equal((await page.getByTestId('user-menu').textContent())?.includes(olivia.username), true);
    });

    test('the profile shows, copies and refreshes the CLI secret, which the registry accepts', async (t) => {
      if (!needTools(t, 'chromium')) return;
      await page.getByTestId('user-menu').click();
      await page.getByRole('menuitem', { name: 'User Profile' }).click();
      const shown = page.getByTestId('cli-secret');
      await shown.waitFor();
      assert.match((await shown.textContent()) ?? '', /^•+$/, 'hidden until asked for');
      await page.getByRole('button', { name: 'Show' }).click();
      const secret = (await shown.textContent()) ?? '';
      assert.ok(secret.length >= 8 && !secret.includes('•'), `a secret is shown: ${secret}`);
      await screenshot(page, `${backend}-profile-cli-secret`);
      await page.getByRole('button', { name: 'Copy CLI secret' }).click();
      await page.getByRole('button', { name: 'Copied CLI secret' }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
      assert.equal(await registryLogin(berth, secret), 200);

      await page.getByRole('button', { name: 'Generate new secret' }).click();
      await page.waitForFunction((old) => {
        const text = document.querySelector('[data-testid="cli-secret"]')?.textContent ?? '';
        return text !== old && !text.includes('•');
      }, secret);
      const renewed = (await shown.textContent()) ?? '';
      assert.equal(await registryLogin(berth, renewed), 200);
      assert.equal(await registryLogin(berth, secret), 401, 'the old secret stops working');
    });
  });
}
