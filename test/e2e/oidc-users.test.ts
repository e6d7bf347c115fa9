// OIDC users (a real OpenID provider, oidc-provider, in-process) against a real Berth in oidc_auth mode,
// on every metadata backend: the scripted authorization-code login through /c/oidc/login onboards the
// user and its groups claim, the profile shows a CLI secret, and skopeo pushes with it where the user's
// OIDC group is a Developer member; the IdP password is refused on /v2, as a Guest group's push is.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { groupTypes } from '../../src/auth/providers/provider.js';
import { backends, basicAuth, startBerth, type RunningBerth } from '../helpers/berth.js';
import { HarborApi } from '../helpers/harbor-api.js';
import { containerTools, type ContainerTools } from '../helpers/containers.js';
import { OciLayout, tempDir } from '../helpers/images.js';
import { browserlessLogin, type CookieJar } from '../helpers/oidc-login.js';
import { startOidcProvider, type RunningOidcProvider } from '../helpers/oidc-provider.js';
import { hasTool, needTools } from '../helpers/tools.js';

const roles = { developer: 2, guest: 3 } as const;
const users = [
  { username: 'olivia', password: 'Olivia-Pass-1', email: 'olivia@example.test', groups: ['dev-team'] },
  { username: 'otto', password: 'Otto-Pass-1', groups: ['readers'] },
];

for (const backend of backends()) {
  describe(`OIDC users push with their CLI secret (${backend})`, () => {
    let idp: RunningOidcProvider;
    let berth: RunningBerth;
    let tools: ContainerTools | undefined;
    let work: string;
    let layout: OciLayout;

    before(async () => {
      idp = await startOidcProvider({ users });
      berth = await startBerth({
        backend,
        overrides: {
          auth: {
            mode: 'oidc_auth',
            oidc: {
              issuer: idp.issuer,
              clientId: idp.clientId,
              clientSecret: idp.clientSecret,
              allowInsecureHttp: true,
              cliSecretLifetimeHours: 24,
            },
          },
        },
      });
      idp.allowRedirectUri(`${berth.url}/c/oidc/callback`);
      work = tempDir('oidc');
      layout = new OciLayout(join(work, 'layout'));
      layout.addImage({ tag: 'v1', layers: [[{ path: 'etc/hello', content: 'from an OIDC user\n' }]] });
      if (hasTool('skopeo')) tools = containerTools();

      // The OIDC groups as an admin adds them as members (Harbor: member_group, group_type 3).
      const admin = new HarborApi(berth.url, berth.admin);
      await admin.expect(201, 'POST', '/projects', { project_name: 'team', metadata: { public: 'false' } });
      for (const [group_name, role_id] of [
        ['dev-team', roles.developer],
        ['readers', roles.guest],
      ] as const)
        await admin.expect(
          201,
          'POST',
          '/projects/team/members',
          { role_id, member_group: { group_name, group_type: groupTypes.oidc } },
          { 'x-is-resource-name': 'true' },
        );
    });
    after(async () => {
      await berth?.close();
      await idp?.stop();
      tools?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    const login = async (username: string, password: string) => {
      const done = await browserlessLogin(`${berth.url}/c/oidc/login?redirect_url=/harbor/projects`, {
        username,
        password,
        stopAt: (u) => new URL(u).origin === berth.url && !u.includes('/c/oidc/'),
      });
      return done;
    };
    /**
     * The signed-in user as the profile page reads it: `GET /api/v2.0/users/current` with the browser's
     * session cookie (the CLI secret is in `oidc_user_meta.secret`). The stored row is read only to check
     * that the secret is sealed at rest.
     */
    const current = async (jar: CookieJar) => {
      const cookie = jar.header(berth.url);
      assert.ok(cookie && jar.get(berth.url, 'sid'), 'a session cookie was set');
      const res = await fetch(`${berth.url}/api/v2.0/users/current`, { headers: { cookie } });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      const me = JSON.parse(text) as {
        user_id: number;
        username: string;
        email: string;
        oidc_user_meta?: { secret: string };
      };
      const row = await berth.app.store.users.findById(me.user_id);
      return {
        user_id: me.user_id,
        username: me.username,
        email: me.email,
        secret: me.oidc_user_meta?.secret || undefined,
        sealed: row?.cli_secret,
      };
    };
    const dest = (ref: string) => `docker://${berth.host}/${ref}`;
    const copyArgs = (creds: string, ref: string) => [
      'copy',
      '--dest-tls-verify=false',
      '--dest-creds',
      creds,
      layout.ref('v1'),
      dest(ref),
    ];

    it('logs in through the IdP, onboards the user and its groups, and starts a UI session', async () => {
      const done = await login('olivia', 'Olivia-Pass-1');
      assert.equal(done.response.status, 302, JSON.stringify(done.steps));
      assert.equal(done.response.headers.get('location'), '/harbor/projects');
      assert.ok(idp.logins.some((l) => l.username === 'olivia' && l.ok));
      const me = await current(done.jar);
      assert.equal(me.username, 'olivia');
      assert.equal(me.email, 'olivia@example.test');
      const user = await berth.app.store.users.findByName('olivia');
      assert.equal(user?.auth_source, 'oidc');
      const devTeam = await berth.app.store.userGroups.findByKey(groupTypes.oidc, 'dev-team');
      assert.deepEqual(await berth.app.store.users.groupIds(user!.id), [devTeam!.id]);
    });

    it('pushes with the CLI secret where the OIDC group is a Developer; the IdP password is refused', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      const { jar } = await login('olivia', 'Olivia-Pass-1');
      const me = await current(jar);
      const secret = me.secret;
      assert.ok(secret && secret.length >= 32, 'the user has a CLI secret');
      assert.ok(!me.sealed!.includes(secret), 'the CLI secret is stored encrypted');
      await tools!.skopeo(copyArgs(`olivia:${secret}`, 'team/app:v1'));
      const refused = await tools!.skopeoFails(copyArgs('olivia:Olivia-Pass-1', 'team/app:v2'));
      assert.match(refused.stderr, /unauthorized|authentication required|401/i);
      const res = await fetch(`${berth.url}/v2/`, {
        headers: { authorization: basicAuth({ username: 'olivia', password: 'Olivia-Pass-1' }) },
      });
      assert.equal(res.status, 401);
    });

    it('keeps the CLI secret across logins, and refuses it once older than its lifetime', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      const first = await current((await login('olivia', 'Olivia-Pass-1')).jar);
      const again = await current((await login('olivia', 'Olivia-Pass-1')).jar);
      assert.equal(again.secret, first.secret);
      const v2 = `olivia:${first.secret}`;
      await tools!.skopeo(copyArgs(v2, 'team/app:v2'));
      const dayAndMore = new Date(Date.now() - 25 * 3600_000).toISOString();
      await berth.app.store.users.update(first.user_id, { cli_secret_time: dayAndMore });
      const refused = await tools!.skopeoFails(copyArgs(v2, 'team/app:v3'));
      assert.match(refused.stderr, /unauthorized|authentication required|401/i);
    });

    it('refuses a push where the OIDC group is a Guest', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      const { jar } = await login('otto', 'Otto-Pass-1');
      const secret = (await current(jar)).secret!;
      const refused = await tools!.skopeoFails(copyArgs(`otto:${secret}`, 'team/app:v3'));
      assert.match(refused.stderr, /denied|unauthorized|authentication required/i);
    });

    it('refuses a callback without the login cookie, and a wrong IdP password never reaches Berth', async () => {
      const res = await fetch(`${berth.url}/c/oidc/callback?code=x&state=y`, { redirect: 'manual' });
      assert.equal(res.status, 401);
      const body = (await res.json()) as { errors: { code: string; message: string }[] };
      assert.equal(body.errors[0]!.code, 'UNAUTHORIZED');
      const done = await login('olivia', 'wrong-password');
      assert.equal(done.response.status, 401);
      const names = (done.jar.header(berth.url) ?? '').split('; ').map((c) => c.split('=')[0]);
      assert.deepEqual(names, ['berth_oidc'], 'no session cookie without a completed login');
    });
  });
}
