import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, basicAuth, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { containerTools, type ContainerTools } from '../../helpers/containers.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';
import { needTools } from '../../helpers/tools.js';

interface Robot {
  id: number;
  name: string;
  level: string;
  disable: boolean;
  duration: number;
  expires_at: number;
  editable: boolean;
  creator_type: string;
  permissions: { kind: string; namespace: string; access: { resource: string; action: string }[] }[];
  secret?: string;
}
interface Created {
  id: number;
  name: string;
  secret: string;
  creation_time: string;
  expires_at: number;
}

const pullOnly = (namespace: string) => ({
  kind: 'project',
  namespace,
  access: [
    { resource: 'repository', action: 'pull' },
    { resource: 'artifact', action: 'list' },
  ],
});
const pushPull = (namespace: string) => ({
  kind: 'project',
  namespace,
  access: [
    { resource: 'repository', action: 'pull' },
    { resource: 'repository', action: 'push' },
  ],
});

for (const backend of backends()) {
  describe(`robot accounts API (${backend})`, () => {
    let berth: RunningBerth;
    let admin: HarborApi;
    let projectId: number;
    const image = makeImage();
    before(async () => {
      berth = await startBerth({ backend });
      admin = new HarborApi(berth.url);
      await admin.expect(201, 'POST', '/projects', { project_name: 'rp', metadata: { public: 'false' } });
      await admin.expect(201, 'POST', '/projects', { project_name: 'rq', metadata: { public: 'false' } });
      projectId = (await admin.expect<{ project_id: number }>(200, 'GET', '/projects/rp')).body.project_id;
      await new RegistryClient(berth.url).pushImage('rp/app', image, 'v1');
      await new RegistryClient(berth.url).pushImage('rq/app', image, 'v1');
      await admin.expect(201, 'POST', '/users', { username: 'dev', password: 'Dev-Pass123' });
      await admin.expect(201, 'POST', '/users', { username: 'boss', password: 'Boss-Pass123' });
      await admin.expect(
        201,
        'POST',
        '/projects/rp/members',
        { role_id: 2, member_user: { username: 'dev' } },
        {
          'x-is-resource-name': 'true',
        },
      );
      await admin.expect(
        201,
        'POST',
        '/projects/rp/members',
        { role_id: 1, member_user: { username: 'boss' } },
        {
          'x-is-resource-name': 'true',
        },
      );
    });
    after(async () => berth?.close());

    const registry = (creds: { username: string; password: string }) =>
      new RegistryClient(berth.url, { auth: creds });
    const pullStatus = async (creds: { username: string; password: string }, repo: string) => {
      const res = await registry(creds).fetch(`/v2/${repo}/manifests/v1`, {
        headers: { accept: image.mediaType },
      });
      await res.body?.cancel();
      return res.status;
    };
    const pushStatus = async (creds: { username: string; password: string }, repo: string) => {
      const res = await registry(creds).fetch(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
      await res.body?.cancel();
      return res.status;
    };

    test('a system robot spans projects: secret shown once, pulls where granted, cannot push pull-only', async () => {
      const res = await admin.expect<Created>(201, 'POST', '/robots', {
        name: 'ci',
        description: 'build bot',
        level: 'system',
        duration: -1,
        permissions: [
          pullOnly('rp'),
          pushPull('rq'),
          { kind: 'system', namespace: '/', access: [{ resource: 'project', action: 'list' }] },
        ],
      });
      const created = res.body;
      assert.equal(created.name, 'robot$ci');
      assert.equal(created.expires_at, -1);
      assert.match(created.secret, /^.{16,}$/);
      assert.equal(res.headers.get('location'), `/api/v2.0/robots/${created.id}`);
      assert.deepEqual(Object.keys(created).sort(), ['creation_time', 'expires_at', 'id', 'name', 'secret']);

      const got = (await admin.expect<Robot>(200, 'GET', `/robots/${created.id}`)).body;
      assert.equal(got.secret, undefined, 'the secret is never shown again');
      assert.equal(got.name, 'robot$ci');
      assert.equal(got.level, 'system');
      assert.equal(got.creator_type, 'local');
      assert.deepEqual(got.permissions.map((p) => `${p.kind}:${p.namespace}`).sort(), [
        'project:rp',
        'project:rq',
        'system:/',
      ]);
      assert.ok(!JSON.stringify(await berth.app.store.robots.findById(created.id)).includes(created.secret));

      const robot = { username: created.name, password: created.secret };
      assert.equal(await pullStatus(robot, 'rp/app'), 200);
      assert.equal(await pullStatus(robot, 'rq/app'), 200);
      assert.equal(await pushStatus(robot, 'rp/app'), 403, 'pull-only grant cannot push');
      assert.equal(await pushStatus(robot, 'rq/app'), 202);
      assert.equal(await pullStatus({ ...robot, password: 'Wrong-Secret1' }, 'rp/app'), 401);

      const list = await admin.expect<Robot[]>(200, 'GET', '/robots?page_size=50');
      assert.ok(list.body.some((r) => r.id === created.id));
      assert.ok(Number(list.headers.get('x-total-count')) >= 1);
      const fuzzy = await admin.expect<Robot[]>(200, 'GET', `/robots?q=${encodeURIComponent('name=~c')}`);
      assert.ok(fuzzy.body.every((r) => r.name.includes('c')));
      await admin.expect(409, 'POST', '/robots', {
        name: 'ci',
        level: 'system',
        duration: 5,
        permissions: [pullOnly('rp')],
      });
    });

    test('a system robot granted every project ("*") pulls from each, including projects made later', async () => {
      const created = (
        await admin.expect<Created>(201, 'POST', '/robots', {
          name: 'everywhere',
          level: 'system',
          duration: -1,
          permissions: [pullOnly('*')],
        })
      ).body;
      const creds = { username: created.name, password: created.secret };
      assert.equal(await pullStatus(creds, 'rp/app'), 200);
      assert.equal(await pullStatus(creds, 'rq/app'), 200);
      await admin.expect(201, 'POST', '/projects', { project_name: 'later', metadata: { public: 'false' } });
      await new RegistryClient(berth.url).pushImage('later/app', image, 'v1');
      assert.equal(await pullStatus(creds, 'later/app'), 200);
      assert.equal(await pushStatus(creds, 'later/app'), 403);
    });

    test('refresh gives a new secret and the old one stops working; a chosen secret is set, not echoed', async () => {
      const created = (
        await admin.expect<Created>(201, 'POST', '/robots', {
          name: 'refresher',
          level: 'system',
          duration: 7,
          permissions: [pullOnly('rp')],
        })
      ).body;
      const old = { username: created.name, password: created.secret };
      assert.equal(await pullStatus(old, 'rp/app'), 200);
      const fresh = (await admin.expect<{ secret: string }>(200, 'PATCH', `/robots/${created.id}`, {})).body;
      assert.notEqual(fresh.secret, created.secret);
      assert.equal(await pullStatus(old, 'rp/app'), 401);
      assert.equal(await pullStatus({ ...old, password: fresh.secret }, 'rp/app'), 200);
      const chosen = await admin.expect<Record<string, unknown>>(200, 'PATCH', `/robots/${created.id}`, {
        secret: 'My-Own-Secret9',
      });
      assert.deepEqual(chosen.body, {});
      assert.equal(await pullStatus({ ...old, password: 'My-Own-Secret9' }, 'rp/app'), 200);
      await admin.expectError(400, 'BAD_REQUEST', 'PATCH', `/robots/${created.id}`, { secret: 'weak' });
      assert.equal(
        await pullStatus({ ...old, password: 'My-Own-Secret9' }, 'rp/app'),
        200,
        'nothing changed',
      );
      // Expiry is counted from creation, in days.
      const got = (await admin.expect<Robot>(200, 'GET', `/robots/${created.id}`)).body;
      assert.equal(got.duration, 7);
      assert.equal(got.expires_at, Math.floor(Date.parse(created.creation_time) / 1000) + 7 * 86400);
    });

    test('duration 0 or none takes robot_token_duration from /configurations', async () => {
      await admin.expect(200, 'PUT', '/configurations', { robot_token_duration: 3 });
      const made = (
        await admin.expect<Created>(201, 'POST', '/robots', {
          name: 'defaulted',
          level: 'system',
          duration: 0,
          permissions: [pullOnly('rp')],
        })
      ).body;
      const got = (await admin.expect<Robot>(200, 'GET', `/robots/${made.id}`)).body;
      assert.equal(got.duration, 3);
      assert.equal(got.expires_at, Math.floor(Date.parse(made.creation_time) / 1000) + 3 * 86400);
    });

    test('disabled, expired and deleted robots are refused on /v2, /service/token and the API', async () => {
      const created = (
        await admin.expect<Created>(201, 'POST', '/robots', {
          name: 'lifecycle',
          level: 'system',
          duration: 30,
          permissions: [
            pullOnly('rp'),
            { kind: 'system', namespace: '/', access: [{ resource: 'project', action: 'list' }] },
          ],
        })
      ).body;
      const creds = { username: created.name, password: created.secret };
      const token = async () =>
        (
          await fetch(`${berth.url}/service/token?service=berth&scope=repository:rp/app:pull`, {
            headers: { authorization: basicAuth(creds) },
          })
        ).status;
      const apiAs = admin.as(creds.username, creds.password);
      assert.equal(await pullStatus(creds, 'rp/app'), 200);
      assert.equal(await token(), 200);
      // Signed in as a robot: no user profile (403), not anonymous (401).
      await apiAs.expect(403, 'GET', '/users/current');

      const robot = (await admin.expect<Robot>(200, 'GET', `/robots/${created.id}`)).body;
      await admin.expect(200, 'PUT', `/robots/${created.id}`, { ...robot, disable: true });
      assert.equal((await admin.expect<Robot>(200, 'GET', `/robots/${created.id}`)).body.disable, true);
      assert.equal(await pullStatus(creds, 'rp/app'), 401);
      assert.equal(await token(), 401);
      // Refused credentials leave the caller anonymous: what needs a signed-in caller answers 401.
      await apiAs.expect(401, 'GET', '/users/current');

      await admin.expect(200, 'PUT', `/robots/${created.id}`, { ...robot, disable: false });
      assert.equal(await pullStatus(creds, 'rp/app'), 200);
      // Expiry passes (set in the database: waiting a day is not a test).
      await berth.app.store.robots.update(created.id, { expires_at: Math.floor(Date.now() / 1000) - 1 });
      assert.equal(await pullStatus(creds, 'rp/app'), 401);
      assert.equal(await token(), 401);

      await admin.expect(200, 'DELETE', `/robots/${created.id}`);
      await admin.expectError(404, 'NOT_FOUND', 'GET', `/robots/${created.id}`);
      await admin.expectError(404, 'NOT_FOUND', 'DELETE', `/robots/${created.id}`);
      assert.equal(await token(), 401);
    });

    test('project robots: robot$<project>+<name>, listed per project, managed by the project admin only', async () => {
      const boss = admin.as('boss', 'Boss-Pass123');
      const dev = admin.as('dev', 'Dev-Pass123');
      const body = { name: 'deploy', level: 'project', duration: 30, permissions: [pushPull('rp')] };
      await dev.expectError(403, 'FORBIDDEN', 'POST', '/robots', body);
      await admin.anonymous().expectError(401, 'UNAUTHORIZED', 'POST', '/robots', body);
      const created = (await boss.expect<Created>(201, 'POST', '/robots', body)).body;
      assert.equal(created.name, 'robot$rp+deploy');
      const creds = { username: created.name, password: created.secret };
      assert.equal(await pushStatus(creds, 'rp/app'), 202);
      assert.equal(await pullStatus(creds, 'rq/app'), 404, 'another private project looks absent');

      const q = encodeURIComponent(`Level=project,ProjectID=${projectId}`);
      const list = await boss.expect<Robot[]>(200, 'GET', `/robots?q=${q}`);
      assert.deepEqual(
        list.body.map((r) => r.name),
        ['robot$rp+deploy'],
      );
      assert.equal(list.headers.get('x-total-count'), '1');
      const system = await admin.expect<Robot[]>(200, 'GET', '/robots?page_size=100');
      assert.ok(!system.body.some((r) => r.level === 'project'), 'the default list is system robots');
      await dev.expect(200, 'GET', `/robots?q=${q}`);
      await dev.expectError(403, 'FORBIDDEN', 'GET', '/robots');
      // A user who is no member of rq cannot see that rq exists through robots.
      const rqId = (await admin.expect<{ project_id: number }>(200, 'GET', '/projects/rq')).body.project_id;
      await boss.expectError(
        404,
        'NOT_FOUND',
        'GET',
        `/robots?q=${encodeURIComponent(`Level=project,ProjectID=${rqId}`)}`,
      );
      await boss.expectError(404, 'NOT_FOUND', 'POST', '/robots', { ...body, permissions: [pushPull('rq')] });
      await admin.expectError(400, 'BAD_REQUEST', 'GET', `/robots?q=${encodeURIComponent('Level=project')}`);

      const robot = (await boss.expect<Robot>(200, 'GET', `/robots/${created.id}`)).body;
      await boss.expect(200, 'PUT', `/robots/${created.id}`, { ...robot, permissions: [pullOnly('rp')] });
      assert.equal(await pushStatus(creds, 'rp/app'), 403, 'narrowed permissions apply at once');
      await boss.expectError(400, 'BAD_REQUEST', 'PUT', `/robots/${created.id}`, {
        ...robot,
        name: 'robot$rp+other',
      });
      await boss.expectError(400, 'BAD_REQUEST', 'PUT', `/robots/${created.id}`, {
        ...robot,
        level: 'system',
      });
      await dev.expectError(403, 'FORBIDDEN', 'PATCH', `/robots/${created.id}`, {});
      await boss.expect(200, 'DELETE', `/robots/${created.id}`);
      assert.equal(await pullStatus(creds, 'rp/app'), 401);
    });

    test('bad input is refused and changes nothing', async () => {
      const before = (await admin.expect<Robot[]>(200, 'GET', '/robots?page_size=100')).body.length;
      const ok = { name: 'bad', level: 'system', duration: 1, permissions: [pullOnly('rp')] };
      const cases: [string, unknown][] = [
        ['unknown field', { ...ok, colour: 'red' }],
        ['upper-case name', { ...ok, name: 'Bad' }],
        ['plus in name', { ...ok, name: 'a+b' }],
        ['bad level', { ...ok, level: 'global' }],
        ['bad duration', { ...ok, duration: -5 }],
        ['no permissions', { ...ok, permissions: [] }],
        ['empty access', { ...ok, permissions: [{ kind: 'project', namespace: 'rp', access: [] }] }],
        [
          'ungrantable action',
          {
            ...ok,
            permissions: [
              { kind: 'project', namespace: 'rp', access: [{ resource: 'repository', action: 'fly' }] },
            ],
          },
        ],
        [
          'system grant off "/"',
          {
            ...ok,
            permissions: [
              { kind: 'system', namespace: 'rp', access: [{ resource: 'project', action: 'list' }] },
            ],
          },
        ],
        [
          'project robot with two projects',
          { ...ok, level: 'project', permissions: [pullOnly('rp'), pullOnly('rq')] },
        ],
        ['project robot on *', { ...ok, level: 'project', permissions: [pullOnly('*')] }],
        ['weak secret', { ...ok, secret: 'password' }],
        ['string duration', { ...ok, duration: 'ten' }],
      ];
      for (const [why, body] of cases) {
        const res = await admin.call<{ errors: { code: string }[] }>('POST', '/robots', body);
        assert.equal(res.status, 400, `${why}: ${res.status} ${res.text}`);
        assert.equal(res.body.errors[0]!.code, 'BAD_REQUEST', why);
      }
      await admin.expectError(404, 'NOT_FOUND', 'POST', '/robots', {
        ...ok,
        permissions: [pullOnly('nope')],
      });
      await admin.expectError(400, 'BAD_REQUEST', 'GET', '/robots/abc');
      await admin.expectError(400, 'BAD_REQUEST', 'GET', `/robots?q=${encodeURIComponent('colour=red')}`);
      assert.equal((await admin.expect<Robot[]>(200, 'GET', '/robots?page_size=100')).body.length, before);
    });

    test('a robot that may create robots grants only what it holds', async () => {
      const maker = (
        await admin.expect<Created>(201, 'POST', '/robots', {
          name: 'maker',
          level: 'system',
          duration: 1,
          permissions: [
            pullOnly('rp'),
            {
              kind: 'system',
              namespace: '/',
              access: [
                { resource: 'robot', action: 'create' },
                { resource: 'robot', action: 'read' },
              ],
            },
          ],
        })
      ).body;
      const asMaker = admin.as(maker.name, maker.secret);
      const child = (
        await asMaker.expect<Created>(201, 'POST', '/robots', {
          name: 'child',
          level: 'system',
          duration: 1,
          permissions: [pullOnly('rp')],
        })
      ).body;
      assert.equal(
        (await asMaker.expect<Robot>(200, 'GET', `/robots/${child.id}`)).body.creator_type,
        'robot',
      );
      await asMaker.expectError(403, 'FORBIDDEN', 'POST', '/robots', {
        name: 'greedy',
        level: 'system',
        duration: 1,
        permissions: [pushPull('rp')],
      });
      await asMaker.expectError(403, 'FORBIDDEN', 'DELETE', `/robots/${child.id}`);
    });

    test('skopeo: a robot logs in through the token service; expired or disabled it is refused', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      const tools: ContainerTools = containerTools();
      try {
        const created = (
          await admin.expect<Created>(201, 'POST', '/robots', {
            name: 'skopeo',
            level: 'project',
            duration: 30,
            permissions: [pullOnly('rp')],
          })
        ).body;
        const ref = `docker://${berth.host}/rp/app:v1`;
        const creds = `--creds=${created.name}:${created.secret}`;
        const inspect = ['inspect', '--raw', '--tls-verify=false', creds, ref];
        const { stdout } = await tools.skopeo(inspect);
        assert.equal(JSON.parse(stdout).schemaVersion, 2);
        const robot = (await admin.expect<Robot>(200, 'GET', `/robots/${created.id}`)).body;
        await admin.expect(200, 'PUT', `/robots/${created.id}`, { ...robot, disable: true });
        const disabled = await tools.skopeoFails(inspect);
        assert.match(disabled.stderr, /unauthorized|authentication required|401/i);
        await admin.expect(200, 'PUT', `/robots/${created.id}`, { ...robot, disable: false });
        await tools.skopeo(inspect);
        await berth.app.store.robots.update(created.id, { expires_at: Math.floor(Date.now() / 1000) - 1 });
        const expired = await tools.skopeoFails(inspect);
        assert.match(expired.stderr, /unauthorized|authentication required|401/i);
      } finally {
        tools.close();
      }
    });
  });
}

for (const backend of backends()) {
  describe(`robot name prefix from the configuration (${backend})`, () => {
    let berth: RunningBerth;
    before(async () => {
      berth = await startBerth({ backend, overrides: { auth: { robotPrefix: 'bot_' } } });
    });
    after(async () => berth?.close());

    test('robots are named and log in with the configured prefix', async () => {
      const admin = new HarborApi(berth.url);
      await admin.expect(201, 'POST', '/projects', { project_name: 'px' });
      const created = (
        await admin.expect<Created>(201, 'POST', '/robots', {
          name: 'ci',
          level: 'project',
          duration: 1,
          permissions: [pullOnly('px')],
        })
      ).body;
      assert.equal(created.name, 'bot_px+ci');
      const res = await fetch(`${berth.url}/service/token?service=berth&scope=repository:px/app:pull`, {
        headers: { authorization: basicAuth({ username: created.name, password: created.secret }) },
      });
      assert.equal(res.status, 200);
      const asRobot = admin.as(created.name, created.secret);
      await asRobot.expect(403, 'GET', '/users/current');
      await admin.as(`robot$px+ci`, created.secret).expect(401, 'GET', '/users/current');
    });
  });
}
