// P2P preheat provider instances (issue 20): Harbor's instance operations against a provider stub that
// records the health checks it is sent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { startFakeHttp, type FakeServer } from '../../helpers/fake-http.js';
import { HarborApi } from '../../helpers/harbor-api.js';

type Instance = { id: number; name: string; vendor: string; default: boolean; enabled: boolean };

for (const backend of backends()) {
  describe(`P2P preheat instances (${backend})`, () => {
    let berth: RunningBerth;
    let admin: HarborApi;
    let stub: FakeServer;
    before(async () => {
      berth = await startBerth({ backend });
      admin = new HarborApi(berth.url);
      stub = await startFakeHttp([
        ['GET', '/df/healthy', () => ({ status: 200, body: 'OK' })],
        ['GET', '/kr/health', () => ({ status: 200, body: 'OK' })],
        ['GET', '/down/healthy', () => ({ status: 503 })],
      ]);
      await admin.expect(201, 'POST', '/projects', { project_name: 'pp' });
      await admin.expect(201, 'POST', '/users', {
        username: 'plain',
        password: 'Secret-Pass1',
        email: 'plain@x.io',
        realname: 'plain',
      });
    });
    after(async () => {
      await berth.close();
      await stub.close();
    });

    test('the providers are Dragonfly and Kraken', async () => {
      const res = await admin.expect<{ id: string; name: string }[]>(200, 'GET', '/p2p/preheat/providers');
      assert.deepEqual(
        res.body.map((p) => [p.id, p.name]),
        [
          ['dragonfly', 'Dragonfly'],
          ['kraken', 'Kraken'],
        ],
      );
    });

    test('instances are created, listed, read without credentials, and refused when they clash', async () => {
      const df = {
        name: 'df',
        vendor: 'dragonfly',
        endpoint: `${stub.url}/df`,
        auth_mode: 'BASIC',
        auth_info: { username: 'u', password: 'p' },
        enabled: true,
        default: true,
      };
      const made = await admin.expect(201, 'POST', '/p2p/preheat/instances', df);
      assert.equal(made.headers.get('location'), '/api/v2.0/p2p/preheat/instances/df');
      const got = await admin.expect<Record<string, unknown>>(200, 'GET', '/p2p/preheat/instances/df');
      assert.equal(got.body.auth_info, undefined, 'credentials are never sent back');
      assert.deepEqual([got.body.vendor, got.body.default, got.body.enabled], ['dragonfly', true, true]);
      assert.ok(Number(got.body.setup_timestamp) > 1_600_000_000);
      await admin.expectError(409, 'CONFLICT', 'POST', '/p2p/preheat/instances', { ...df, name: 'df2' });
      const bad = await admin.expectError(400, 'BAD_REQUEST', 'POST', '/p2p/preheat/instances', {
        ...df,
        name: 'bad name',
      });
      assert.equal(bad, 'name bad name is invalid');
      await admin.expectError(400, 'BAD_REQUEST', 'POST', '/p2p/preheat/instances', {
        ...df,
        name: 'x',
        vendor: 'bittorrent',
        endpoint: `${stub.url}/x`,
      });
      await admin.expect(201, 'POST', '/p2p/preheat/instances', {
        name: 'kr',
        vendor: 'kraken',
        endpoint: `${stub.url}/kr`,
        auth_mode: 'OAUTH',
        auth_info: { token: 'tok' },
        enabled: true,
        default: true,
      });
      const list = await admin.expect<Instance[]>(200, 'GET', '/p2p/preheat/instances?sort=name');
      assert.equal(list.headers.get('x-total-count'), '2');
      assert.deepEqual(
        list.body.map((i) => [i.name, i.default]),
        [
          ['df', false],
          ['kr', true],
        ],
        'one default at a time',
      );
      const q = await admin.expect<Instance[]>(
        200,
        'GET',
        `/p2p/preheat/instances?q=${encodeURIComponent('vendor=kraken')}`,
      );
      assert.deepEqual(
        q.body.map((i) => i.name),
        ['kr'],
      );
      const under = await admin.expect<{ provider: string; default: boolean }[]>(
        200,
        'GET',
        '/projects/pp/preheat/providers',
      );
      assert.deepEqual(
        under.body.map((p) => p.provider),
        [`dragonfly df-${stub.url}/df`, `kraken kr-${stub.url}/kr`],
      );
    });

    test("ping calls the vendor's health path with the instance's credentials", async () => {
      const id = (await admin.expect<Instance>(200, 'GET', '/p2p/preheat/instances/df')).body.id;
      await admin.expect(200, 'POST', '/p2p/preheat/instances/ping', { id });
      const seen = stub.requests.at(-1)!;
      assert.equal(seen.url.pathname, '/df/healthy');
      assert.equal(seen.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
      await admin.expect(200, 'POST', '/p2p/preheat/instances/ping', {
        name: 'probe',
        vendor: 'kraken',
        endpoint: `${stub.url}/kr`,
        auth_mode: 'OAUTH',
        auth_info: { token: 'tok2' },
      });
      assert.equal(stub.requests.at(-1)!.url.pathname, '/kr/health');
      assert.equal(stub.requests.at(-1)!.headers.authorization, 'Bearer tok2');
      const down = await admin.expectError(400, 'BAD_REQUEST', 'POST', '/p2p/preheat/instances/ping', {
        name: 'down',
        vendor: 'dragonfly',
        endpoint: `${stub.url}/down`,
      });
      assert.match(down, /is not healthy/);
      await admin.expectError(404, 'NOT_FOUND', 'POST', '/p2p/preheat/instances/ping', { id: 999999 });
    });

    test('an update keeps stored credentials when auth_info is left out, and never changes the vendor', async () => {
      const cur = (await admin.expect<Record<string, unknown>>(200, 'GET', '/p2p/preheat/instances/df')).body;
      await admin.expect(200, 'PUT', '/p2p/preheat/instances/df', {
        ...cur,
        description: 'edge',
        auth_info: {},
      });
      const after = (
        await admin.expect<Instance & { description: string }>(200, 'GET', '/p2p/preheat/instances/df')
      ).body;
      assert.equal(after.description, 'edge');
      await admin.expect(200, 'POST', '/p2p/preheat/instances/ping', { id: after.id });
      assert.equal(
        stub.requests.at(-1)!.headers.authorization,
        `Basic ${Buffer.from('u:p').toString('base64')}`,
      );
      const vendor = await admin.expectError(400, 'BAD_REQUEST', 'PUT', '/p2p/preheat/instances/df', {
        ...cur,
        vendor: 'kraken',
      });
      assert.equal(vendor, 'provider [df] vendor cannot be changed');
      await admin.expectError(404, 'NOT_FOUND', 'PUT', '/p2p/preheat/instances/nope', cur);
    });

    test('only system admins manage instances; deleting one removes it', async () => {
      const plain = admin.as('plain', 'Secret-Pass1');
      await plain.expectError(403, 'FORBIDDEN', 'GET', '/p2p/preheat/instances');
      await admin.anonymous().expectError(401, 'UNAUTHORIZED', 'GET', '/p2p/preheat/providers');
      await plain.expectError(404, 'NOT_FOUND', 'GET', '/projects/pp/preheat/providers');
      await admin.expect(200, 'DELETE', '/p2p/preheat/instances/kr');
      await admin.expectError(404, 'NOT_FOUND', 'GET', '/p2p/preheat/instances/kr');
      await admin.expectError(404, 'NOT_FOUND', 'DELETE', '/p2p/preheat/instances/kr');
    });
  });
}
