// Activity insights (issue 18): daily aggregates kept from real pushes, pulls and deletes through /v2, over
// two days of an injected clock; what each caller may see (a user only their projects); the API's
// validation errors in Harbor's error shape.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { RegistryClient, makeImage, useBerth } from '../../helpers/registry-client.js';
import { waitFor } from '../../helpers/wait.js';

interface Overview {
  from: string;
  to: string;
  days: number;
  totals: { pushes: number; pulls: number; deletes: number; push_bytes: number; active_users: number };
  activity: {
    date: string;
    pushes: number;
    pulls: number;
    deletes: number;
    push_bytes: number;
    pull_bytes: number;
    active_users: number;
  }[];
  storage: { date: string; used_bytes: number }[];
  storage_by_project: { project_name: string; used_bytes: number }[];
  top_repositories: { repository_name: string; pushes: number; pulls: number; pull_bytes: number }[];
  top_users: { username: string; pushes: number; pulls: number; active_days: number }[];
  vulnerabilities: { date: string; critical: number; high: number }[];
}

const dayMs = 86_400_000;
// Yesterday and today (UTC noon), so tokens and sessions the real time checks stay valid.
const day1 = new Date(Math.floor(Date.now() / dayMs) * dayMs - dayMs / 2);
const date = (d: Date) => d.toISOString().slice(0, 10);
const [d1, d2, d3] = [0, 1, 2].map((i) => date(new Date(day1.getTime() + i * dayMs))) as [
  string,
  string,
  string,
];

for (const backend of backends()) {
  describe(`activity insights [${backend}]`, () => {
    let now = day1;
    const fx = useBerth(backend, { clock: { now: () => now } });
    const admin = () => new HarborApi(fx.berth.url);
    const creds = { alice: 'Alice-Pass1', bob: 'Bob-Pass12' } as const;
    const as = (u: keyof typeof creds) => admin().as(u, creds[u]);
    const registry = (u: keyof typeof creds) =>
      new RegistryClient(fx.berth.url, { auth: { username: u, password: creds[u] } });
    const range = `from=${d1}&to=${d3}`;
    let appSize = 0;
    let dbSize = 0;

    async function overview(api: HarborApi, path: string, until: (o: Overview) => boolean) {
      return waitFor(`insights at ${path}`, async () => {
        const { body } = await api.expect<Overview>(200, 'GET', path);
        return until(body) && body;
      });
    }

    test('pushes, pulls, deletes and bytes per day and repository, active and top users, storage', async () => {
      for (const u of ['alice', 'bob'] as const)
        await admin().expect(201, 'POST', '/users', {
          username: u,
          password: creds[u],
          email: `${u}@example.com`,
          realname: u,
        });
      for (const [project, user] of [
        ['team', 'alice'],
        ['ops', 'bob'],
      ] as const) {
        await admin().expect(201, 'POST', '/projects', { project_name: project, public: false });
        await admin().expect(201, 'POST', `/projects/${project}/members`, {
          role_id: 2,
          member_user: { username: user },
        });
      }
      // Day 1: alice pushes team/app and pulls it twice; admin pushes ops/db.
      const app = makeImage({ layerSize: 3000 });
      const db = makeImage({ layerSize: 5000 });
      await registry('alice').pushImage('team/app', app, 'v1');
      await fx.client.pushImage('ops/db', db, 'v1');
      for (let i = 0; i < 2; i++) {
        const res = await registry('alice').fetch('/v2/team/app/manifests/v1');
        await res.body?.cancel();
        assert.equal(res.status, 200);
      }
      const size = async (repo: string) =>
        (await admin().expect<{ size: number }[]>(200, 'GET', `/projects/${repo}/artifacts`)).body[0]!.size;
      appSize = await size('team/repositories/app');
      dbSize = await size('ops/repositories/db');
      await overview(admin(), `/insights?${range}`, (o) => o.totals.pulls === 2 && o.totals.pushes === 2);

      // Day 2: bob pulls ops/db; alice pushes a second image; admin deletes the first by digest.
      now = new Date(day1.getTime() + dayMs);
      const pulled = await registry('bob').fetch(`/v2/ops/db/manifests/${db.digest}`);
      await pulled.body?.cancel();
      assert.equal(pulled.status, 200);
      await registry('alice').pushImage('team/app', makeImage({ layerSize: 1000 }), 'v2');
      const deleted = await fx.client.fetch(`/v2/team/app/manifests/${app.digest}`, { method: 'DELETE' });
      assert.equal(deleted.status, 202);

      const o = await overview(
        admin(),
        `/insights?${range}`,
        (x) => x.totals.deletes === 1 && x.totals.pulls === 3,
      );
      assert.deepEqual([o.from, o.to, o.days], [d1, d3, 3]);
      const row = (d: Overview['activity'][number]) => [
        d.date,
        d.pushes,
        d.pulls,
        d.deletes,
        d.pull_bytes,
        d.active_users,
      ];
      assert.deepEqual(o.activity.map(row), [
        [d1, 2, 2, 0, 2 * appSize, 2], // alice and admin
        [d2, 1, 1, 1, dbSize, 2], // bob and alice (a delete is no user activity)
        [d3, 0, 0, 0, 0, 0],
      ]);
      assert.equal(o.activity[0]!.push_bytes, appSize + dbSize);
      assert.equal(o.totals.active_users, 3);
      assert.deepEqual(
        o.top_repositories.map((r) => [r.repository_name, r.pushes, r.pulls]),
        [
          ['team/app', 2, 2],
          ['ops/db', 1, 1],
        ],
      );
      assert.deepEqual(
        o.top_users.map((u) => [u.username, u.pushes, u.pulls, u.active_days]),
        [
          ['alice', 2, 2, 2],
          ['admin', 1, 0, 1],
          ['bob', 0, 1, 1],
        ],
      );
      // Storage: each project's quota usage as of each day, carried to day 3 (no snapshot that day).
      const used = async (name: string) => {
        const { body } = await admin().expect<{ project_id: number }>(200, 'GET', `/projects/${name}`);
        return (await admin().expect<{ used: { storage: number } }>(200, 'GET', `/quotas/${body.project_id}`))
          .body.used.storage;
      };
      const [team, ops] = [await used('team'), await used('ops')];
      assert.deepEqual(
        o.storage.map((s) => s.used_bytes),
        [appSize + dbSize, team + ops, team + ops],
      );
      assert.deepEqual(
        o.storage_by_project.map((p) => [p.project_name, p.used_bytes]).sort(),
        [
          ['ops', ops],
          ['team', team],
        ].sort(),
      );
      // No scanner yet: the trend is there, all zero.
      assert.deepEqual(
        o.vulnerabilities.map((v) => [v.date, v.critical, v.high]),
        [
          [d1, 0, 0],
          [d2, 0, 0],
          [d3, 0, 0],
        ],
      );
      // top=1 keeps the first of each list.
      const { body: one } = await admin().expect<Overview>(200, 'GET', `/insights?${range}&top=1`);
      assert.deepEqual(
        [one.top_repositories.length, one.top_users.length, one.storage_by_project.length],
        [1, 1, 1],
      );
      // Day 3: deleting a whole repository counts each of its artifacts as a delete.
      now = new Date(day1.getTime() + 2 * dayMs);
      await admin().expect(200, 'DELETE', '/projects/ops/repositories/db');
      const after = await overview(admin(), `/insights?${range}`, (x) => x.totals.deletes === 2);
      assert.deepEqual(
        after.activity.map((d) => d.deletes),
        [0, 1, 1],
      );
    });

    test('a user sees only their projects; a project page needs read access to it', async () => {
      const { body: mine } = await as('alice').expect<Overview>(200, 'GET', `/insights?${range}`);
      assert.deepEqual(
        mine.top_repositories.map((r) => r.repository_name),
        ['team/app'],
      );
      assert.deepEqual(
        mine.activity.map((d) => d.pulls),
        [2, 0, 0],
      );
      assert.deepEqual(
        mine.storage_by_project.map((p) => p.project_name),
        ['team'],
      );
      const { body: project } = await as('alice').expect<Overview>(
        200,
        'GET',
        `/insights/projects/team?${range}`,
      );
      assert.deepEqual(
        project.activity.map((d) => [d.pushes, d.pulls, d.deletes]),
        [
          [1, 2, 0],
          [1, 0, 1],
          [0, 0, 0],
        ],
      );
      // ops is private and bob's: to alice it does not exist.
      await as('alice').expectError(404, 'NOT_FOUND', 'GET', `/insights/projects/ops?${range}`);
      const { body: ops } = await as('bob').expect<Overview>(200, 'GET', `/insights/projects/ops?${range}`);
      assert.equal(ops.totals.pulls, 1);
      await admin().anonymous().expectError(401, 'UNAUTHORIZED', 'GET', '/insights');
      await admin().anonymous().expectError(404, 'NOT_FOUND', 'GET', '/insights/projects/team');
    });

    test("bad ranges and limits answer 400 in Harbor's error shape", async () => {
      for (const query of [
        'days=0',
        'days=367',
        'days=x',
        'from=2026-02-30',
        'to=yesterday',
        `from=${d2}&to=${d1}`,
        `from=${d1}&days=3`,
        'from=2020-01-01&to=2026-01-01',
        'top=0',
        'top=101',
      ])
        await admin().expectError(400, 'BAD_REQUEST', 'GET', `/insights?${query}`);
      await admin().expectError(400, 'BAD_REQUEST', 'GET', '/insights/projects/team?days=-1');
      const { body } = await admin().expect<Overview>(200, 'GET', '/insights');
      assert.equal(body.days, 30);
      assert.equal(body.activity.length, 30);
    });

    test("Berth's OpenAPI document describes both operations and their parameters", async () => {
      type Op = { operationId: string; tags: string[]; parameters: { name: string; in: string }[] };
      const { body } = await admin().expect<{ paths: Record<string, { get: Op }> }>(
        200,
        'GET',
        '/swagger.json',
      );
      const system = body.paths['/insights']!.get;
      const project = body.paths['/insights/projects/{project_name_or_id}']!.get;
      assert.deepEqual([system.operationId, project.operationId], ['getInsights', 'getProjectInsights']);
      assert.deepEqual(system.tags, ['insights']);
      assert.deepEqual(
        project.parameters.map((p) => `${p.in}:${p.name}`),
        ['path:project_name_or_id', 'query:from', 'query:to', 'query:days', 'query:top'],
      );
    });
  });
}
