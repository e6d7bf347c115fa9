import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';

interface Group {
  id: number;
  group_name: string;
  group_type: number;
  ldap_group_dn?: string;
}

for (const backend of backends()) {
  describe(`user groups API (${backend})`, () => {
    let berth: RunningBerth;
    let admin: HarborApi;
    let user: HarborApi;
    before(async () => {
      berth = await startBerth({ backend });
      admin = new HarborApi(berth.url);
      await admin.expect(201, 'POST', '/users', { username: 'gus', password: 'Gus-Pass123' });
      user = admin.as('gus', 'Gus-Pass123');
    });
    after(async () => berth?.close());

    const create = async (body: object) => {
      const res = await admin.expect(201, 'POST', '/usergroups', body);
      const location = res.headers.get('location')!;
      assert.match(location, /^\/api\/v2\.0\/usergroups\/\d+$/);
      return Number(location.split('/').pop());
    };

    test('create, get, list with filters and paging, rename, delete', async () => {
      const devs = await create({ group_name: 'Developers', group_type: 2 });
      const ldap = await create({
        group_name: 'ops',
        group_type: 1,
        ldap_group_dn: 'cn=ops,ou=groups,dc=example,dc=org',
      });
      await create({ group_name: 'dev-oidc', group_type: 3 });
      const got = (await admin.expect<Group>(200, 'GET', `/usergroups/${ldap}`)).body;
      assert.deepEqual(got, {
        id: ldap,
        group_name: 'ops',
        group_type: 1,
        ldap_group_dn: 'cn=ops,ou=groups,dc=example,dc=org',
      });

      const all = await admin.expect<Group[]>(200, 'GET', '/usergroups?page_size=2');
      assert.equal(all.headers.get('x-total-count'), '3');
      assert.equal(all.body.length, 2);
      assert.match(all.headers.get('link') ?? '', /rel="next"/);
      const fuzzy = await admin.expect<Group[]>(200, 'GET', '/usergroups?group_name=DEV');
      assert.deepEqual(fuzzy.body.map((g) => g.group_name).sort(), ['Developers', 'dev-oidc']);

      await admin.expect(200, 'PUT', `/usergroups/${devs}`, { group_name: 'builders' });
      assert.equal(
        (await admin.expect<Group>(200, 'GET', `/usergroups/${devs}`)).body.group_name,
        'builders',
      );
      await admin.expect(200, 'PUT', `/usergroups/${devs}`, {
        ...got,
        id: devs,
        group_name: 'builders',
        group_type: 2,
        ldap_group_dn: '',
      });

      await admin.expect(200, 'DELETE', `/usergroups/${devs}`);
      await admin.expectError(404, 'NOT_FOUND', 'GET', `/usergroups/${devs}`);
      await admin.expectError(404, 'NOT_FOUND', 'DELETE', `/usergroups/${devs}`);
      await admin.expectError(404, 'NOT_FOUND', 'PUT', `/usergroups/${devs}`, { group_name: 'x' });
    });

    test('bad input is refused and changes nothing', async () => {
      const id = await create({ group_name: 'qa', group_type: 2 });
      const before = (await admin.expect<Group[]>(200, 'GET', '/usergroups?page_size=100')).body;
      const bad: [string, object][] = [
        ['no name', { group_type: 2 }],
        ['blank name', { group_name: '  ', group_type: 2 }],
        ['bad type', { group_name: 'x', group_type: 9 }],
        ['LDAP without DN', { group_name: 'x', group_type: 1 }],
        ['LDAP with a bad DN', { group_name: 'x', group_type: 1, ldap_group_dn: 'not a dn' }],
        ['DN on an HTTP group', { group_name: 'x', group_type: 2, ldap_group_dn: 'cn=x,dc=y' }],
        ['unknown field', { group_name: 'x', group_type: 2, colour: 'red' }],
        ['wrong type', { group_name: 'x', group_type: '2' }],
      ];
      for (const [why, body] of bad) {
        const res = await admin.call<{ errors: { code: string }[] }>('POST', '/usergroups', body);
        assert.equal(res.status, 400, `${why}: ${res.status} ${res.text}`);
        assert.equal(res.body.errors[0]!.code, 'BAD_REQUEST', why);
      }
      await admin.expectError(409, 'CONFLICT', 'POST', '/usergroups', { group_name: 'qa', group_type: 2 });
      await admin.expectError(400, 'BAD_REQUEST', 'PUT', `/usergroups/${id}`, { group_name: '' });
      await admin.expectError(400, 'BAD_REQUEST', 'PUT', `/usergroups/${id}`, {
        group_name: 'qa',
        group_type: 1,
      });
      await admin.expectError(400, 'BAD_REQUEST', 'GET', '/usergroups/zero');
      await admin.expectError(400, 'BAD_REQUEST', 'GET', '/usergroups?page_size=101');
      assert.deepEqual((await admin.expect<Group[]>(200, 'GET', '/usergroups?page_size=100')).body, before);
    });

    test('only administrators manage groups; any signed-in user may search; anonymous gets 401', async () => {
      const id = await create({ group_name: 'searchable', group_type: 2 });
      const found = await user.expect<Group[]>(200, 'GET', '/usergroups/search?groupname=SEARCH');
      assert.deepEqual(found.body, [{ id, group_name: 'searchable', group_type: 2 }]);
      assert.equal(found.headers.get('x-total-count'), '1');
      await user.expectError(400, 'BAD_REQUEST', 'GET', '/usergroups/search');
      await admin.anonymous().expectError(401, 'UNAUTHORIZED', 'GET', '/usergroups/search?groupname=s');
      for (const [method, path, body] of [
        ['GET', '/usergroups', undefined],
        ['POST', '/usergroups', { group_name: 'mine', group_type: 2 }],
        ['GET', `/usergroups/${id}`, undefined],
        ['PUT', `/usergroups/${id}`, { group_name: 'mine' }],
        ['DELETE', `/usergroups/${id}`, undefined],
      ] as const) {
        await user.expectError(403, 'FORBIDDEN', method, path, body);
        await admin.anonymous().expectError(401, 'UNAUTHORIZED', method, path, body);
      }
      assert.equal(
        (await admin.expect<Group>(200, 'GET', `/usergroups/${id}`)).body.group_name,
        'searchable',
      );
    });

    test('deleting a group removes its project memberships', async () => {
      const id = await create({ group_name: 'team-x', group_type: 2 });
      await admin.expect(201, 'POST', '/projects', { project_name: 'gx' });
      await admin.expect(
        201,
        'POST',
        '/projects/gx/members',
        { role_id: 2, member_group: { id } },
        {
          'x-is-resource-name': 'true',
        },
      );
      const members = async () =>
        (
          await admin.expect<{ entity_name: string; entity_type: string }[]>(
            200,
            'GET',
            '/projects/gx/members',
            undefined,
            {
              'x-is-resource-name': 'true',
            },
          )
        ).body.filter((m) => m.entity_type === 'g');
      assert.deepEqual(
        (await members()).map((m) => m.entity_name),
        ['team-x'],
      );
      await admin.expect(200, 'DELETE', `/usergroups/${id}`);
      assert.deepEqual(await members(), []);
    });
  });
}
