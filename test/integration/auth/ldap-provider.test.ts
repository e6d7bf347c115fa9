// LdapProvider against a real OpenLDAP slapd on 127.0.0.1: search-then-bind, groups by DN (memberOf and
// group search), the admin group, filter injection, and failures (bad search account, silent server).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { LdapProvider } from '../../../src/auth/providers/ldap.js';
import { ldapOptions, type LdapOptions } from '../../../src/auth/providers/options.js';
import { AppError } from '../../../src/lib/errors.js';
import { createLogger } from '../../../src/lib/logger.js';
import { startSlapd, type RunningSlapd } from '../../helpers/slapd.js';
import { hasTool, needTools } from '../../helpers/tools.js';
import { selfSignedCert, type SelfSignedCert } from '../../helpers/tls.js';

const log = createLogger('silent');
const haveSlapd = hasTool('slapd') && hasTool('ldapadd');
const needSlapd = (t: TestContext) => needTools(t, 'slapd', 'ldapadd', 'ldapwhoami');

describe('LDAP provider against slapd', () => {
  let ldap: RunningSlapd;
  const provider = (extra: Partial<LdapOptions> = {}) =>
    new LdapProvider({
      log,
      options: ldapOptions.parse({
        url: ldap.url,
        searchDn: ldap.searchDn,
        searchPassword: ldap.searchPassword,
        baseDn: ldap.peopleDn,
        groupBaseDn: ldap.groupsDn,
        ...extra,
      }),
    });

  before(async () => {
    if (!haveSlapd) return;
    ldap = await startSlapd({
      users: [
        { uid: 'alice', password: 'Alice-Pass-1', mail: 'alice@example.test', cn: 'Alice Liddell' },
        { uid: 'bob', password: 'Bob-Pass-1' },
        { uid: 'root-ish', password: 'Admin-Pass-1', mail: 'admin@example.test' },
      ],
      groups: [
        { cn: 'developers', members: ['alice'] },
        { cn: 'guests', members: ['alice', 'bob'] },
        { cn: 'unix', members: ['bob'], kind: 'posixGroup' },
        { cn: 'berth-admins', members: ['root-ish'] },
      ],
    });
  });
  after(async () => ldap?.stop());

  it('binds a user found by uid and returns name, mail, DN and group DNs', async (t) => {
    if (!needSlapd(t)) return;
    const who = await provider().authenticate('alice', 'Alice-Pass-1');
    assert.ok(who);
    assert.equal(who.username, 'alice');
    assert.equal(who.email, 'alice@example.test');
    assert.equal(who.realname, 'Alice Liddell');
    assert.equal(who.subject, ldap.userDn('alice'));
    assert.deepEqual([...who.groups].sort(), [ldap.groupDn('developers'), ldap.groupDn('guests')].sort());
    assert.equal(who.sysadmin, false);
  });

  it('finds posixGroup membership by memberUid through the group search', async (t) => {
    if (!needSlapd(t)) return;
    const who = await provider().authenticate('bob', 'Bob-Pass-1');
    assert.deepEqual([...(who?.groups ?? [])].sort(), [ldap.groupDn('guests'), ldap.groupDn('unix')].sort());
  });

  it('uses only memberOf when no group base DN is set, and honours the group filter', async (t) => {
    if (!needSlapd(t)) return;
    const onlyMemberOf = await provider({ groupBaseDn: undefined }).authenticate('bob', 'Bob-Pass-1');
    assert.deepEqual(onlyMemberOf?.groups, [ldap.groupDn('guests')]);
    const filtered = await provider({ groupFilter: 'objectClass=posixGroup' }).authenticate(
      'bob',
      'Bob-Pass-1',
    );
    // memberOf still names guests; the group search adds only posix groups.
    assert.deepEqual(
      [...(filtered?.groups ?? [])].sort(),
      [ldap.groupDn('guests'), ldap.groupDn('unix')].sort(),
    );
  });

  it('marks members of the admin group DN as sysadmin (DN compared case-insensitively)', async (t) => {
    if (!needSlapd(t)) return;
    const p = provider({ groupAdminDn: ldap.groupDn('berth-admins').toUpperCase() });
    assert.equal((await p.authenticate('root-ish', 'Admin-Pass-1'))?.sysadmin, true);
    assert.equal((await p.authenticate('alice', 'Alice-Pass-1'))?.sysadmin, false);
  });

  it('answers a wrong password exactly like an unknown user: null', async (t) => {
    if (!needSlapd(t)) return;
    const p = provider();
    assert.equal(await p.authenticate('alice', 'wrong-password'), null);
    assert.equal(await p.authenticate('nobody', 'Alice-Pass-1'), null);
    assert.equal(await p.authenticate('alice', ''), null, 'empty password is not an anonymous bind');
    assert.equal(await p.authenticate('', 'x'), null);
  });

  it('matches the login name case-insensitively and keeps the directory spelling', async (t) => {
    if (!needSlapd(t)) return;
    assert.equal((await provider().authenticate('ALICE', 'Alice-Pass-1'))?.username, 'alice');
  });

  it('escapes filter metacharacters in the login name (LDAP injection)', async (t) => {
    if (!needSlapd(t)) return;
    const p = provider();
    for (const name of [
      '*',
      'a*',
      'alice)(uid=*',
      '*)(|(uid=*',
      'alice)(|(objectClass=*)',
      'alic\\2a',
      'alice\0',
    ]) {
      assert.equal(await p.authenticate(name, 'Alice-Pass-1'), null, `login name ${JSON.stringify(name)}`);
      assert.equal(await p.lookupUser(name), null, `lookup ${JSON.stringify(name)}`);
    }
    // A wildcard in the user filter of a real entry still only finds that entry.
    assert.equal((await p.lookupUser('alice'))?.username, 'alice');
  });

  it('applies the configured user filter and scope', async (t) => {
    if (!needSlapd(t)) return;
    const withMail = provider({ filter: '(mail=*)' });
    assert.ok(await withMail.authenticate('alice', 'Alice-Pass-1'));
    assert.equal(await withMail.authenticate('bob', 'Bob-Pass-1'), null, 'bob has no mail');
    const baseScope = provider({ scope: 'base' });
    assert.equal(await baseScope.authenticate('alice', 'Alice-Pass-1'), null, 'users lie below the base DN');
    const oneLevel = provider({ baseDn: ldap.baseDn, scope: 'one' });
    assert.equal(await oneLevel.authenticate('alice', 'Alice-Pass-1'), null, 'users are two levels down');
  });

  it('looks groups up by DN, inside the group base DN only', async (t) => {
    if (!needSlapd(t)) return;
    const p = provider();
    assert.deepEqual(await p.lookupGroup(ldap.groupDn('developers')), {
      name: 'developers',
      dn: ldap.groupDn('developers'),
    });
    assert.equal(await p.lookupGroup(`cn=missing,${ldap.groupsDn}`), null);
    assert.equal(await p.lookupGroup(ldap.userDn('alice')), null, 'outside the group base DN');
  });

  it('searches users by exact uid or lists them all, and groups by name or DN', async (t) => {
    if (!needSlapd(t)) return;
    const p = provider();
    assert.deepEqual(
      (await p.searchUsers('alice')).map((u) => [u.username, u.email, u.realname]),
      [['alice', 'alice@example.test', 'Alice Liddell']],
    );
    assert.deepEqual((await p.searchUsers('al*')).length, 0, 'a wildcard is a literal character');
    assert.deepEqual((await p.searchUsers(undefined)).map((u) => u.username).sort(), [
      'alice',
      'bob',
      'root-ish',
    ]);
    assert.deepEqual(await p.searchGroups({ name: 'developers' }), [
      { name: 'developers', dn: ldap.groupDn('developers') },
    ]);
    assert.deepEqual(await p.searchGroups({ name: 'dev*' }), []);
    assert.equal((await p.searchGroups({})).length, 4);
    assert.deepEqual(await p.searchGroups({ dn: ldap.groupDn('unix') }), [
      { name: 'unix', dn: ldap.groupDn('unix') },
    ]);
  });

  it('refuses a login name that matches several entries', async (t) => {
    if (!needSlapd(t)) return;
    await ldap.add(
      `dn: ou=contractors,${ldap.baseDn}\nobjectClass: organizationalUnit\nou: contractors\n\n` +
        `dn: uid=twin,ou=contractors,${ldap.baseDn}\nobjectClass: inetOrgPerson\nuid: twin\ncn: twin\nsn: twin\nuserPassword: Twin-Pass-1\n\n` +
        `dn: uid=twin,${ldap.peopleDn}\nobjectClass: inetOrgPerson\nuid: twin\ncn: twin\nsn: twin\nuserPassword: Twin-Pass-1\n`,
    );
    const wide = provider({ baseDn: ldap.baseDn });
    assert.equal(await wide.authenticate('twin', 'Twin-Pass-1'), null);
    assert.equal(
      (await provider().authenticate('twin', 'Twin-Pass-1'))?.subject,
      `uid=twin,${ldap.peopleDn}`,
    );
  });

  it('fails with UNAVAILABLE when the search account is refused', async (t) => {
    if (!needSlapd(t)) return;
    const p = provider({ searchPassword: 'not-the-password' });
    await assert.rejects(p.authenticate('alice', 'Alice-Pass-1'), (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.code, 'UNAVAILABLE');
      assert.doesNotMatch(err.message, /not-the-password|Alice-Pass-1/);
      return true;
    });
    await assert.rejects(p.ping(), /could not be reached/);
    await provider().ping();
  });
});

describe('LDAP provider against a broken server', () => {
  let silent: Server;
  let port: number;
  const sockets: Socket[] = [];
  before(async () => {
    // Accepts TCP connections and never answers: every LDAP operation must time out.
    silent = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as { port: number }).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  it('gives up after the configured timeout', async () => {
    const p = new LdapProvider({
      log,
      options: ldapOptions.parse({
        url: `ldap://127.0.0.1:${port}`,
        baseDn: 'dc=x',
        searchDn: 'cn=a,dc=x',
        searchPassword: 'p',
        timeoutSeconds: 0.5,
      }),
    });
    const started = Date.now();
    await assert.rejects(
      p.authenticate('alice', 'pw'),
      (err: unknown) => err instanceof AppError && err.code === 'UNAVAILABLE',
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 400 && elapsed < 3000, `took ${elapsed} ms`);
  });

  it('fails fast with UNAVAILABLE when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const p = new LdapProvider({
      log,
      options: ldapOptions.parse({ url: `ldap://127.0.0.1:${deadPort}`, baseDn: 'dc=x' }),
    });
    await assert.rejects(
      p.authenticate('alice', 'pw'),
      (err: unknown) => err instanceof AppError && err.code === 'UNAVAILABLE',
    );
  });

  it('rejects a malformed URL in the options', () => {
    assert.throws(() => ldapOptions.parse({ url: 'http://x', baseDn: 'dc=x' }), /ldap:\/\/host/);
  });
});

describe('LDAP provider over ldaps://', () => {
  let ldap: RunningSlapd;
  let cert: SelfSignedCert;
  before(async () => {
    if (!haveSlapd || !hasTool('openssl')) return;
    cert = await selfSignedCert();
    ldap = await startSlapd({ tls: cert, users: [{ uid: 'tina', password: 'Tina-Pass-1' }] });
  });
  after(async () => {
    await ldap?.stop();
    if (cert) rmSync(cert.dir, { recursive: true, force: true });
  });
  const provider = (verifyCert: boolean) =>
    new LdapProvider({
      log,
      options: ldapOptions.parse({
        url: ldap.ldapsUrl,
        searchDn: ldap.searchDn,
        searchPassword: ldap.searchPassword,
        baseDn: ldap.peopleDn,
        verifyCert,
      }),
    });

  it('refuses a certificate it cannot verify, and accepts it with verifyCert off', async (t) => {
    if (!needTools(t, 'slapd', 'ldapadd', 'ldapwhoami', 'openssl')) return;
    await assert.rejects(
      provider(true).authenticate('tina', 'Tina-Pass-1'),
      (err: unknown) => err instanceof AppError && err.code === 'UNAVAILABLE',
    );
    assert.equal((await provider(false).authenticate('tina', 'Tina-Pass-1'))?.username, 'tina');
    assert.equal(await provider(false).authenticate('tina', 'wrong'), null);
  });
});
