// OidcProvider against a real OpenID provider (the oidc-provider package) run in-process on 127.0.0.1:
// discovery, authorization URL with state/nonce/PKCE, the scripted code flow, ID token and claim mapping,
// and the ways a callback can be wrong.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it, type TestContext } from 'node:test';
import { OidcProvider, type PendingOidcLogin } from '../../../src/auth/providers/oidc.js';
import { oidcOptions, type OidcOptions } from '../../../src/auth/providers/options.js';
import { AppError } from '../../../src/lib/errors.js';
import { createLogger } from '../../../src/lib/logger.js';
import { browserlessLogin } from '../../helpers/oidc-login.js';
import { startOidcProvider, type RunningOidcProvider } from '../../helpers/oidc-provider.js';
import { selfSignedCert, type SelfSignedCert } from '../../helpers/tls.js';
import { hasTool, needTools } from '../../helpers/tools.js';

const log = createLogger('silent');
const redirectUri = 'http://127.0.0.1:9/c/oidc/callback';
const users = [
  {
    username: 'olivia',
    password: 'Olivia-Pass-1',
    email: 'olivia@example.test',
    name: 'Olivia O',
    groups: ['dev-team', 'readers'],
  },
  { username: 'oscar', password: 'Oscar-Pass-1', groups: ['berth-admins'] },
];

const isUnauthorized = (pattern?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof AppError, String(err));
  assert.equal(err.code, 'UNAUTHORIZED');
  if (pattern) assert.match(err.message, pattern);
  return true;
};

describe('OIDC provider against a real OpenID provider', () => {
  let idp: RunningOidcProvider;
  let userinfoIdp: RunningOidcProvider;

  before(async () => {
    idp = await startOidcProvider({ users, redirectUris: [redirectUri] });
    userinfoIdp = await startOidcProvider({
      users,
      redirectUris: [redirectUri],
      claimsOnlyFromUserinfo: true,
    });
  });
  after(async () => {
    await idp?.stop();
    await userinfoIdp?.stop();
  });

  const provider = (extra: Partial<OidcOptions> = {}, at = idp) =>
    new OidcProvider({
      log,
      options: oidcOptions.parse({
        issuer: at.issuer,
        clientId: at.clientId,
        clientSecret: at.clientSecret,
        allowInsecureHttp: true,
        ...extra,
      }),
    });

  /** Runs the browser's part up to the redirect back to Berth; returns the callback URL. */
  const loginAt = async (authUrl: string, username: string, password: string) => {
    const done = await browserlessLogin(authUrl, {
      username,
      password,
      stopAt: (u) => u.startsWith(redirectUri),
    });
    const location = done.response.headers.get('location');
    assert.ok(location, `no redirect back: ${JSON.stringify(done.steps)} ${done.body}`);
    return new URL(location);
  };

  it('builds an authorization URL with state, nonce, PKCE S256 and the scopes', async () => {
    const { url, pending } = await provider({ scope: 'profile, email,groups' }).beginLogin(redirectUri);
    const u = new URL(url);
    assert.equal(u.origin, idp.issuer);
    assert.equal(u.searchParams.get('client_id'), idp.clientId);
    assert.equal(u.searchParams.get('redirect_uri'), redirectUri);
    assert.equal(u.searchParams.get('response_type'), 'code');
    assert.equal(u.searchParams.get('scope'), 'openid profile email groups');
    assert.equal(u.searchParams.get('state'), pending.state);
    assert.equal(u.searchParams.get('nonce'), pending.nonce);
    assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
    assert.ok((u.searchParams.get('code_challenge') ?? '').length >= 43);
    assert.notEqual(u.searchParams.get('code_challenge'), pending.codeVerifier);
  });

  it('logs a user in with the code flow and maps username, email, name, groups and subject', async () => {
    const p = provider({ adminGroup: 'berth-admins' });
    const { url, pending } = await p.beginLogin(redirectUri);
    const who = await p.finishLogin(await loginAt(url, 'olivia', 'Olivia-Pass-1'), pending);
    assert.equal(who.username, 'olivia');
    assert.equal(who.email, 'olivia@example.test');
    assert.equal(who.realname, 'Olivia O');
    assert.deepEqual(who.groups, ['dev-team', 'readers']);
    assert.equal(who.subject, `${idp.issuer}|${idp.subOf('olivia')}`);
    assert.equal(who.sysadmin, false);
    const second = await p.beginLogin(redirectUri);
    const admin = await p.finishLogin(await loginAt(second.url, 'oscar', 'Oscar-Pass-1'), second.pending);
    assert.equal(admin.sysadmin, true);
  });

  it('reads the claims from userinfo when the ID token carries only sub', async () => {
    const p = provider({}, userinfoIdp);
    const { url, pending } = await p.beginLogin(redirectUri);
    const who = await p.finishLogin(await loginAt(url, 'olivia', 'Olivia-Pass-1'), pending);
    assert.equal(who.username, 'olivia');
    assert.deepEqual(who.groups, ['dev-team', 'readers']);
  });

  it('keeps only groups matching the group filter', async () => {
    const p = provider({ groupFilter: '^dev-' });
    const { url, pending } = await p.beginLogin(redirectUri);
    assert.deepEqual((await p.finishLogin(await loginAt(url, 'olivia', 'Olivia-Pass-1'), pending)).groups, [
      'dev-team',
    ]);
  });

  it('takes the username from the configured claim and refuses a login without it', async () => {
    const byEmail = provider({ userClaim: 'email' });
    const a = await byEmail.beginLogin(redirectUri);
    assert.equal(
      (await byEmail.finishLogin(await loginAt(a.url, 'olivia', 'Olivia-Pass-1'), a.pending)).username,
      'olivia@example.test',
    );
    const b = await byEmail.beginLogin(redirectUri);
    // oscar has no email claim.
    await assert.rejects(
      byEmail.finishLogin(await loginAt(b.url, 'oscar', 'Oscar-Pass-1'), b.pending),
      isUnauthorized(/"email" claim/),
    );
  });

  it('a wrong password at the IdP yields no code', async () => {
    const { url } = await provider().beginLogin(redirectUri);
    const done = await browserlessLogin(url, {
      username: 'olivia',
      password: 'wrong',
      stopAt: (u) => u.startsWith(redirectUri),
    });
    assert.equal(done.response.status, 401);
    assert.deepEqual(idp.logins.at(-1), { username: 'olivia', ok: false });
  });

  it('refuses a callback whose state, nonce or PKCE verifier does not match, and a replayed code', async () => {
    const p = provider();
    const cases: [string, (x: PendingOidcLogin) => PendingOidcLogin][] = [
      ['state', (x) => ({ ...x, state: 'forged-state' })],
      ['nonce', (x) => ({ ...x, nonce: 'other-nonce' })],
      ['verifier', (x) => ({ ...x, codeVerifier: 'a'.repeat(43) })],
    ];
    for (const [what, tamper] of cases) {
      const { url, pending } = await p.beginLogin(redirectUri);
      const callback = await loginAt(url, 'olivia', 'Olivia-Pass-1');
      await assert.rejects(p.finishLogin(callback, tamper(pending)), isUnauthorized(), what);
    }
    const { url, pending } = await p.beginLogin(redirectUri);
    const callback = await loginAt(url, 'olivia', 'Olivia-Pass-1');
    await p.finishLogin(callback, pending);
    await assert.rejects(p.finishLogin(callback, pending), isUnauthorized(), 'replayed code');
  });

  it('reports an error the IdP sent back', async () => {
    const { pending } = await provider().beginLogin(redirectUri);
    const callback = new URL(
      `${redirectUri}?error=access_denied&error_description=nope&state=${pending.state}`,
    );
    await assert.rejects(provider().finishLogin(callback, pending), isUnauthorized(/access_denied \(nope\)/));
  });

  it('never accepts a password', async () => {
    assert.equal(await provider().authenticate(), null);
  });

  it('refuses an http:// issuer unless allowed, and an unreachable issuer, with UNAVAILABLE', async () => {
    await assert.rejects(provider({ allowInsecureHttp: false }).beginLogin(redirectUri), (err: unknown) => {
      assert.ok(err instanceof AppError && err.code === 'UNAVAILABLE');
      assert.match(err.message, /allowInsecureHttp/);
      return true;
    });
    await assert.rejects(
      provider({ issuer: 'http://127.0.0.1:9/', timeoutSeconds: 2 }).beginLogin(redirectUri),
      (err: unknown) => err instanceof AppError && err.code === 'UNAVAILABLE',
    );
  });
});

describe('OIDC provider over https with a self-signed certificate', () => {
  let idp: RunningOidcProvider;
  let cert: SelfSignedCert;
  before(async () => {
    if (!hasTool('openssl')) return;
    cert = await selfSignedCert();
    idp = await startOidcProvider({ users, redirectUris: [redirectUri], tls: cert });
  });
  after(async () => {
    await idp?.stop();
    if (cert) rmSync(cert.dir, { recursive: true, force: true });
  });
  const provider = (verifyCert: boolean) =>
    new OidcProvider({
      log,
      options: oidcOptions.parse({
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
        verifyCert,
      }),
    });

  it('refuses the certificate by default and completes the code flow with verifyCert off', async (t: TestContext) => {
    if (!needTools(t, 'openssl')) return;
    await assert.rejects(
      provider(true).beginLogin(redirectUri),
      (err: unknown) => err instanceof AppError && err.code === 'UNAVAILABLE',
    );
    const p = provider(false);
    const { url, pending } = await p.beginLogin(redirectUri);
    const done = await browserlessLogin(url, {
      username: 'olivia',
      password: 'Olivia-Pass-1',
      insecureTls: true,
      stopAt: (u) => u.startsWith(redirectUri),
    });
    const who = await p.finishLogin(new URL(done.response.headers.get('location')!), pending);
    assert.equal(who.username, 'olivia');
    assert.deepEqual(who.groups, ['dev-team', 'readers']);
  });
});
