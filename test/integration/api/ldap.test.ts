// Harbor's Ldap API (/api/v2.0/ldap/*) against a real slapd: ping (configured and with a changed
// configuration), user search and import, group search; sysadmin only; refused clearly without LDAP.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { backends, basicAuth, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborSwagger, type SwaggerOperation } from '../../helpers/harbor-swagger.js';
import { startSlapd, type RunningSlapd } from '../../helpers/slapd.js';
import { hasTool, needTools } from '../../helpers/tools.js';

const peers = ['slapd', 'ldapadd', 'ldapwhoami'];
const haveSlapd = peers.every(hasTool);
const needSlapd = (t: TestContext) => needTools(t, ...peers);

for (const backend of backends()) {
  describe(`Ldap API (${backend})`, () => {
    let ldap: RunningSlapd;
    let berth: RunningBerth;
    let dbBerth: RunningBerth;

    before(async () => {
      dbBerth = await startBerth({ backend });
      if (!haveSlapd) return;
      ldap = await startSlapd({
        users: [
          { uid: 'lena', password: 'Lena-Pass-1', mail: 'lena@example.test', cn: 'Lena L' },
          { uid: 'max', password: 'Max-Pass-1' },
        ],
        groups: [{ cn: 'devs', members: ['lena'] }],
      });
      berth = await startBerth({
        backend,
        overrides: {
          auth: {
            mode: 'ldap_auth',
            ldap: {
              url: ldap.url,
              searchDn: ldap.searchDn,
              searchPassword: ldap.searchPassword,
              baseDn: ldap.peopleDn,
              groupBaseDn: ldap.groupsDn,
            },
          },
        },
      });
    });
    after(async () => {
      await berth?.close();
      await dbBerth?.close();
      await ldap?.stop();
    });

    const call = async (
      at: RunningBerth,
      method: string,
      path: string,
      body?: unknown,
      as: { username: string; password: string } = at.admin,
    ) => {
      const res = await fetch(`${at.url}/api/v2.0${path}`, {
        method,
        headers: { authorization: basicAuth(as), 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
    };

    it('pings the configured directory, and a changed configuration', async (t) => {
      if (!needSlapd(t)) return;
      assert.deepEqual(await call(berth, 'POST', '/ldap/ping'), {
        status: 200,
        body: { success: true, message: 'ldap ping succeeded' },
      });
      const wrong = await call(berth, 'POST', '/ldap/ping', { ldap_search_password: 'wrong' });
      assert.equal(wrong.status, 200);
      assert.equal((wrong.body as { success: boolean }).success, false);
      assert.doesNotMatch(JSON.stringify(wrong.body), /wrong|Pass-1/);
      const bad = await call(berth, 'POST', '/ldap/ping', { ldap_url: 'http://nope' });
      assert.equal(bad.status, 400);
    });

    it('searches users and groups', async (t) => {
      if (!needSlapd(t)) return;
      assert.deepEqual(await call(berth, 'GET', '/ldap/users/search?username=lena'), {
        status: 200,
        body: [{ username: 'lena', realname: 'Lena L', email: 'lena@example.test' }],
      });
      const all = await call(berth, 'GET', '/ldap/users/search');
      assert.deepEqual((all.body as { username: string }[]).map((u) => u.username).sort(), ['lena', 'max']);
      assert.deepEqual(await call(berth, 'GET', '/ldap/groups/search?groupname=devs'), {
        status: 200,
        body: [{ group_name: 'devs', group_type: 1, ldap_group_dn: ldap.groupDn('devs') }],
      });
      const byDn = await call(
        berth,
        'GET',
        `/ldap/groups/search?groupdn=${encodeURIComponent(ldap.groupDn('devs'))}`,
      );
      assert.equal((byDn.body as unknown[]).length, 1);
    });

    it('imports users, answering 404 with the uids it could not find', async (t) => {
      if (!needSlapd(t)) return;
      const res = await call(berth, 'POST', '/ldap/users/import', { ldap_uid_list: ['max', 'ghost'] });
      assert.equal(res.status, 404);
      assert.deepEqual(res.body, [{ uid: 'ghost', error: 'not found in the directory' }]);
      const max = await berth.app.store.users.findByName('max');
      assert.equal(max?.auth_source, 'ldap');
      assert.equal(await berth.app.store.users.findByName('ghost'), undefined);
      assert.equal((await call(berth, 'POST', '/ldap/users/import', { ldap_uid_list: [] })).status, 400);
    });

    // The contract test's check for the Ldap tag (it needs a directory, so it lives here): each operation
    // answers a status Harbor's swagger declares, with a body valid against that status's schema.
    it("every operation of the Ldap tag answers as Harbor's swagger.yaml says", async (t) => {
      if (!needSlapd(t)) return;
      const swagger = HarborSwagger.load();
      assert.ok(swagger, "Harbor's swagger.yaml is needed");
      const plan: [op: string, method: string, path: string, body: unknown, status: number][] = [
        ['pingLdap', 'POST', '/ldap/ping', undefined, 200],
        ['pingLdap', 'POST', '/ldap/ping', { ldap_url: 'http://nope' }, 400],
        ['searchLdapUser', 'GET', '/ldap/users/search?username=lena', undefined, 200],
        ['searchLdapGroup', 'GET', '/ldap/groups/search?groupname=devs', undefined, 200],
        ['importLdapUser', 'POST', '/ldap/users/import', { ldap_uid_list: ['lena'] }, 200],
        ['importLdapUser', 'POST', '/ldap/users/import', { ldap_uid_list: ['nobody'] }, 404],
      ];
      const failures: string[] = [];
      for (const [op, method, path, body, status] of plan) {
        const declared: SwaggerOperation = swagger.operations.get(op)!;
        assert.equal(declared.method, method, op);
        assert.match(path.split('?')[0]!, declared.pattern, op);
        const res = await call(berth, method, path, body);
        if (res.status !== status) failures.push(`${op} ${path}: expected ${status}, got ${res.status}`);
        else if (!declared.responses.has(String(status))) failures.push(`${op}: ${status} is not declared`);
        else {
          const schema = declared.responses.get(String(status));
          if (schema) failures.push(...swagger.validate(schema, res.body).map((e) => `${op} ${path}: ${e}`));
        }
      }
      assert.deepEqual(failures, []);
      const ldapOps = [...swagger.operations.values()].filter((o) => o.path.startsWith('/ldap/'));
      assert.deepEqual(ldapOps.map((o) => o.operationId).sort(), [...new Set(plan.map((c) => c[0]))].sort());
    });

    it('is for system administrators only', async (t) => {
      if (!needSlapd(t)) return;
      const lena = { username: 'lena', password: 'Lena-Pass-1' };
      assert.equal((await call(berth, 'GET', '/ldap/users/search', undefined, lena)).status, 403);
      assert.equal((await call(berth, 'POST', '/ldap/ping', undefined, lena)).status, 403);
      const anon = await fetch(`${berth.url}/api/v2.0/ldap/users/search`);
      assert.equal(anon.status, 401);
    });

    it('answers PRECONDITION when Berth is not in ldap_auth mode', async () => {
      const res = await call(dbBerth, 'GET', '/ldap/users/search?username=x');
      assert.equal(res.status, 412);
      const body = res.body as { errors: { code: string; message: string }[] };
      assert.match(body.errors[0]!.message, /auth\.mode/);
      assert.equal((await call(dbBerth, 'POST', '/ldap/ping')).status, 412);
    });
  });
}
