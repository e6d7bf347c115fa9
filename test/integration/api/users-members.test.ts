import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { after, before } from 'node:test';

for (const backend of backends()) {
  describe(`users and members API [${backend}]`, () => {
    let berth: RunningBerth;
    let admin: HarborApi;
    before(async () => {
      berth = await startBerth({ backend });
      admin = new HarborApi(berth.url);
    });
    after(async () => berth?.close());

    test('admin creates a user; weak passwords and duplicates are refused; the user sees itself', async () => {
      await admin.expect(400, 'POST', '/users', { username: 'weak', password: 'short' });
      const res = await admin.expect(201, 'POST', '/users', {
        username: 'alice',
        password: 'Alice-Pass1',
        email: 'a@x.io',
      });
      const id = Number(res.headers.get('location')!.split('/').pop());
      await admin.expect(409, 'POST', '/users', { username: 'alice', password: 'Alice-Pass1' });
      const alice = admin.as('alice', 'Alice-Pass1');
      const me = await alice.expect<{ user_id: number; sysadmin_flag: boolean }>(
        200,
        'GET',
        '/users/current',
      );
      assert.equal(me.body.user_id, id);
      assert.equal(me.body.sysadmin_flag, false);
      await alice.expect(403, 'GET', '/users');
      await alice.expect(403, 'POST', '/users', { username: 'bob', password: 'Bob-Pass123' });
      await admin.anonymous().expect(401, 'GET', '/users/current');
    });

    test('the user list filters and sorts through q and sort like every other list', async () => {
      await admin.expect(201, 'POST', '/users', {
        username: 'zed.one',
        password: 'Zed-Pass123',
        email: 'z1@x.io',
      });
      await admin.expect(201, 'POST', '/users', {
        username: 'zed.two',
        password: 'Zed-Pass123',
        email: 'z2@x.io',
      });
      type U = { username: string };
      const names = (r: { body: U[] }) => r.body.map((u) => u.username);
      const fuzzy = await admin.expect<U[]>(200, 'GET', `/users?q=${encodeURIComponent('username=~ZED')}`);
      assert.deepEqual(names(fuzzy), ['zed.one', 'zed.two']);
      assert.equal(fuzzy.headers.get('x-total-count'), '2');
      const anyOf = await admin.expect<U[]>(
        200,
        'GET',
        `/users?q=${encodeURIComponent('username={zed.two alice}')}&sort=-username`,
      );
      assert.deepEqual(names(anyOf), ['zed.two', 'alice']);
      // A quoted value may hold a comma (the web client quotes what is typed in a search box).
      const quoted = await admin.expect<U[]>(
        200,
        'GET',
        `/users?q=${encodeURIComponent('username=~"zed,"')}`,
      );
      assert.deepEqual(names(quoted), []);
      const paged = await admin.expect<U[]>(
        200,
        'GET',
        `/users?q=${encodeURIComponent('username=~zed')}&page_size=1&page=2`,
      );
      assert.deepEqual(names(paged), ['zed.two']);
      assert.match(paged.headers.get('link') ?? '', /rel="prev"/);
      await admin.expectError(400, 'BAD_REQUEST', 'GET', `/users?q=${encodeURIComponent('realname=x')}`);
    });

    test('a developer member can push; role changes apply; members list shows names', async () => {
      const p = await admin.expect(201, 'POST', '/projects', {
        project_name: 'team',
        metadata: { public: 'false' },
      });
      assert.ok(p);
      await admin.expect(
        201,
        'POST',
        '/projects/team/members',
        { role_id: 2, member_user: { username: 'alice' } },
        { 'x-is-resource-name': 'true' },
      );
      const list = await admin.expect<{ entity_name: string; role_id: number; id: number }[]>(
        200,
        'GET',
        '/projects/team/members',
        undefined,
        { 'x-is-resource-name': 'true' },
      );
      const alice = list.body.find((m) => m.entity_name === 'alice')!;
      assert.equal(alice.role_id, 2);
      const auth = { authorization: `Basic ${Buffer.from('alice:Alice-Pass1').toString('base64')}` };
      assert.equal(
        (await fetch(`${berth.url}/v2/team/app/blobs/uploads/`, { method: 'POST', headers: auth })).status,
        202,
      );
      await admin.expect(
        200,
        'PUT',
        `/projects/team/members/${alice.id}`,
        { role_id: 3 },
        { 'x-is-resource-name': 'true' },
      );
      assert.equal(
        (await fetch(`${berth.url}/v2/team/app/blobs/uploads/`, { method: 'POST', headers: auth })).status,
        403,
      );
      await admin
        .as('alice', 'Alice-Pass1')
        .expect(
          403,
          'POST',
          '/projects/team/members',
          { role_id: 1, member_user: { username: 'admin' } },
          { 'x-is-resource-name': 'true' },
        );
    });
  });
}
