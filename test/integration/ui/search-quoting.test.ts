// What a user types in a UI search box reaches the list as a value to search for, never as q syntax: the
// web client's q() quotes values holding a comma, a quote or a bracket (Harbor's `name=~"a,b"`), and Berth
// answers such a search instead of refusing it with 400.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { q } from '../../../web/src/api/client.js';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';
import { waitFor } from '../../helpers/wait.js';

describe('q() in the web client', () => {
  test('sends plain values bare, as Harbor’s portal does', () => {
    assert.equal(q({ name: '~app' }), 'name=~app');
    assert.equal(q({ Level: 'project', ProjectID: 3 }), 'Level=project,ProjectID=3');
    assert.equal(q({ name: 'team a/b-1.2' }), 'name=team a/b-1.2');
    assert.equal(q({ name: undefined, tags: '' }), undefined);
  });

  test('quotes a value holding q syntax, so it stays one value', () => {
    assert.equal(q({ name: '~a,b' }), 'name=~"a,b"');
    assert.equal(q({ resource: '~(x)' }), 'resource=~"(x)"');
    assert.equal(q({ tags: '~[1~2]' }), 'tags=~"[1~2]"');
    assert.equal(q({ name: '{a b}' }), 'name="{a b}"');
    assert.equal(q({ name: ' padded ' }), 'name=" padded "');
    // An exact value that starts with ~ is not turned into a fuzzy match.
    assert.equal(q({ username: '~~x' }), 'username=~"~x"');
  });
});

for (const backend of backends()) {
  describe(`a search typed with q syntax in it (${backend})`, () => {
    let berth: RunningBerth;
    let api: HarborApi;
    before(async () => {
      berth = await startBerth({ backend });
      api = new HarborApi(berth.url);
      await berth.createProject('shop');
      await new RegistryClient(berth.url).pushImage('shop/app', makeImage(), 'v1');
    });
    after(() => berth.close());

    const repositories = (search: string) =>
      `/projects/shop/repositories?q=${encodeURIComponent(q({ name: `~${search}` })!)}`;

    test('a comma in the repository search answers 200 with what matches, not 400', async () => {
      const found = await api.expect<{ name: string }[]>(200, 'GET', repositories('app'));
      assert.deepEqual(
        found.body.map((r) => r.name),
        ['shop/app'],
      );
      const comma = await api.expect<unknown[]>(200, 'GET', repositories('app,'));
      assert.deepEqual(comma.body, []);
      assert.equal(comma.headers.get('x-total-count'), '0');
      // Sent bare, the same text is two terms, the second one malformed: the 400 the quoting avoids.
      await api.expectError(
        400,
        'BAD_REQUEST',
        'GET',
        `/projects/shop/repositories?q=${encodeURIComponent('name=~app,')}`,
      );
    });

    test('a comma in the users search answers 200 with no match, and plain text still finds the user', async () => {
      const users = (search: string) => `/users?q=${encodeURIComponent(q({ username: `~${search}` })!)}`;
      const admin = await api.expect<{ username: string }[]>(200, 'GET', users('adm'));
      assert.deepEqual(
        admin.body.map((u) => u.username),
        ['admin'],
      );
      assert.deepEqual((await api.expect<unknown[]>(200, 'GET', users('adm,in'))).body, []);
    });

    test('brackets and quotes-worthy text in the audit log filter are searched for', async () => {
      const logs = (search: string) => `/audit-logs?q=${encodeURIComponent(q({ resource: `~${search}` })!)}`;
      // The audit log is written in batches: wait until the push shows, searched for plainly.
      await waitFor('the push in the audit log', async () => {
        const plain = await api.expect<unknown[]>(200, 'GET', logs('shop/app'));
        return plain.body.length > 0;
      });
      for (const typed of ['(shop)', '[shop]', '{shop}', 'shop,app']) {
        const res = await api.expect<unknown[]>(200, 'GET', logs(typed));
        assert.deepEqual(res.body, [], typed);
      }
    });
  });
}
