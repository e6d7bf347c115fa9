// The web UI in Debian's Chromium: the app shell loads from Berth, the sign-in form works from the
// keyboard, shows the API's own error message next to the form, and fits a phone screen.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { hasTool, needTools } from '../../helpers/tools.js';
import {
  builtWebUi,
  collectPageErrors,
  launchChromium,
  screenshot,
  type TestBrowser,
} from '../../helpers/web-ui.js';

for (const backend of backends()) {
  describe(`web UI shell in Chromium (${backend})`, () => {
    let berth: RunningBerth | undefined;
    let chrome: TestBrowser | undefined;
    before(async () => {
      if (!hasTool('chromium')) return;
      berth = await startBerth({ backend, overrides: { ui: { dir: await builtWebUi() } } });
      chrome = await launchChromium();
    });
    after(async () => {
      await chrome?.close();
      await berth?.close();
    });

    test('the sign-in page is keyboard operable and shows the API error for bad credentials', async (t) => {
      if (!needTools(t, 'chromium')) return;
      const page = await (await chrome!.context()).newPage();
      const errors = collectPageErrors(page);
      await page.goto(`${berth!.url}/account/sign-in`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      // The username field has focus; Tab moves to the password, then to the button.
      await page.keyboard.type('nobody');
      await page.keyboard.press('Tab');
      await page.keyboard.type('Wrong-Password-1');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Log in');
      await page.keyboard.press('Enter');
      const alert = page.getByRole('alert');
      await alert.waitFor();
      assert.notEqual((await alert.textContent())?.trim(), '');
      assert.match(page.url(), /\/account\/sign-in$/);
      assert.equal(
        await page.getByLabel('Password').inputValue(),
        '',
        'the password is cleared after a failure',
      );
      await screenshot(page, `${backend}-sign-in-error`);
      assert.deepEqual(errors, []);
    });

    test('on a phone-sized screen the sign-in form fits without sideways scrolling', async (t) => {
      if (!needTools(t, 'chromium')) return;
      const page = await (await chrome!.context({ phone: true })).newPage();
      await page.goto(`${berth!.url}/account/sign-in`);
      await page.getByRole('button', { name: 'Log in' }).waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
      await screenshot(page, `${backend}-sign-in-phone`);
    });

    test('an unknown address inside the app shows the not-found page, not a server error', async (t) => {
      if (!needTools(t, 'chromium')) return;
      const page = await (await chrome!.context()).newPage();
      const res = await page.goto(`${berth!.url}/no/such/page`);
      assert.equal(res?.status(), 200);
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    });
  });
}
