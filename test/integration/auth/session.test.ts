import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';

/** Harbor's UI login: POST /c/login sets an HttpOnly session cookie; state changes need the CSRF header. */
for (const backend of backends()) {
  describe(`UI session login [${backend}]`, () => {
    let berth: RunningBerth;
    before(async () => {
      berth = await startBerth({ backend });
    });
    after(async () => berth?.close());

    const login = (principal: string, password: string) =>
      fetch(`${berth.url}/c/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ principal, password }).toString(),
      });
    const cookiesOf = (res: Response) =>
      res.headers
        .getSetCookie()
        .map((c) => c.split(';', 1)[0]!)
        .join('; ');

    test('a wrong password and an unknown user get the same 401, and no cookie', async () => {
      const wrong = await login('admin', 'Not-The-Password1');
      const unknown = await login('nobody-here', 'Not-The-Password1');
      assert.equal(wrong.status, 401);
      assert.equal(unknown.status, 401);
      assert.deepEqual(await wrong.json(), await unknown.json());
      assert.equal(wrong.headers.getSetCookie().length, 0);
    });

    test('the cookie authenticates API calls; POST needs the CSRF token; log_out ends the session', async () => {
      const res = await login(berth.admin.username, berth.admin.password);
      assert.equal(res.status, 200, await res.text());
      const setCookies = res.headers.getSetCookie();
      assert.ok(
        setCookies.some((c) => c.startsWith('sid=') && /HttpOnly/i.test(c)),
        setCookies.join(' | '),
      );
      const csrf = res.headers.get('x-harbor-csrf-token');
      assert.ok(csrf);
      const cookie = cookiesOf(res);

      const me = await fetch(`${berth.url}/api/v2.0/users/current`, { headers: { cookie } });
      assert.equal(me.status, 200);
      assert.equal(((await me.json()) as { username: string }).username, 'admin');

      const body = JSON.stringify({ project_name: 'by-session' });
      const noToken = await fetch(`${berth.url}/api/v2.0/projects`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body,
      });
      assert.equal(noToken.status, 403, await noToken.text());
      const head = await fetch(`${berth.url}/api/v2.0/projects?project_name=by-session`, {
        method: 'HEAD',
        headers: { cookie },
      });
      assert.equal(head.status, 404, 'nothing was created without the CSRF token');

      const withToken = await fetch(`${berth.url}/api/v2.0/projects`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', 'x-harbor-csrf-token': csrf },
        body,
      });
      assert.equal(withToken.status, 201, await withToken.text());

      const out = await fetch(`${berth.url}/c/log_out`, { headers: { cookie } });
      assert.equal(out.status, 200);
      const after = await fetch(`${berth.url}/api/v2.0/users/current`, { headers: { cookie } });
      assert.equal(after.status, 401);
    });
  });
}
