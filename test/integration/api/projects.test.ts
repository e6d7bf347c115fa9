import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';

type Project = { project_id: number; name: string; repo_count: number; metadata: Record<string, string> };

for (const backend of backends()) {
  describe(`projects API (${backend})`, () => {
    let berth: RunningBerth;
    let api: HarborApi;
    before(async () => {
      berth = await startBerth({ backend });
      api = new HarborApi(berth.url);
    });
    after(() => berth.close());

    test('create, head, get by name and id, update metadata, delete', async () => {
      const created = await api.expect(201, 'POST', '/projects', {
        project_name: 'alpha',
        metadata: { public: 'true', auto_scan: 'true', severity: 'high' },
        storage_limit: 1024 * 1024,
      });
      const location = created.headers.get('location')!;
      assert.match(location, /^\/api\/v2\.0\/projects\/\d+$/);
      const id = Number(location.split('/').pop());

      await api.expect(200, 'HEAD', '/projects?project_name=alpha');
      await api.expectError(404, 'NOT_FOUND', 'HEAD', '/projects?project_name=nope');

      const byName = (await api.expect<Project>(200, 'GET', '/projects/alpha')).body;
      assert.equal(byName.project_id, id);
      assert.equal(byName.metadata.public, 'true');
      assert.equal(byName.metadata.auto_scan, 'true');
      assert.equal(byName.metadata.severity, 'high');
      const byId = (await api.expect<Project>(200, 'GET', `/projects/${id}`)).body;
      assert.equal(byId.name, 'alpha');

      await api.expect(200, 'PUT', '/projects/alpha', { metadata: { public: 'false', prevent_vul: 'true' } });
      const updated = (await api.expect<Project>(200, 'GET', '/projects/alpha')).body;
      assert.equal(updated.metadata.public, 'false');
      assert.equal(updated.metadata.prevent_vul, 'true');
      assert.equal(updated.metadata.severity, 'high');

      const summary = (
        await api.expect<{ quota: { hard: { storage: number } } }>(200, 'GET', '/projects/alpha/summary')
      ).body;
      assert.equal(summary.quota.hard.storage, 1024 * 1024);

      await api.expect(200, 'DELETE', `/projects/${id}`);
      await api.expectError(404, 'NOT_FOUND', 'GET', '/projects/alpha');
    });

    test('a digit-only name is found by name with X-Is-Resource-Name', async () => {
      await api.expect(201, 'POST', '/projects', { project_name: '1234' });
      await api.expectError(404, 'NOT_FOUND', 'GET', '/projects/1234');
      const res = await api.expect<Project>(200, 'GET', '/projects/1234', undefined, {
        'X-Is-Resource-Name': 'true',
      });
      assert.equal(res.body.name, '1234');
    });

    test('list filters by name, public and q, sorts, and pages with X-Total-Count and Link', async () => {
      for (const n of ['list-a', 'list-b', 'list-c', 'list-d', 'list-e'])
        await api.expect(201, 'POST', '/projects', { project_name: n, public: n === 'list-c' });
      const page1 = await api.expect<Project[]>(
        200,
        'GET',
        '/projects?name=list-&page=1&page_size=2&sort=-name',
      );
      assert.equal(page1.headers.get('x-total-count'), '5');
      assert.deepEqual(
        page1.body.map((p) => p.name),
        ['list-e', 'list-d'],
      );
      assert.match(page1.headers.get('link') ?? '', /[?&]page=2&page_size=2[^>]*>; rel="next"/);
      const page3 = await api.expect<Project[]>(
        200,
        'GET',
        '/projects?name=list-&page=3&page_size=2&sort=-name',
      );
      assert.deepEqual(
        page3.body.map((p) => p.name),
        ['list-a'],
      );
      assert.match(page3.headers.get('link') ?? '', /rel="prev"/);
      assert.doesNotMatch(page3.headers.get('link') ?? '', /rel="next"/);
      const pub = await api.expect<Project[]>(200, 'GET', '/projects?public=true&name=list');
      assert.deepEqual(
        pub.body.map((p) => p.name),
        ['list-c'],
      );
      const q = await api.expect<Project[]>(
        200,
        'GET',
        `/projects?q=${encodeURIComponent('name={list-a list-b}')}`,
      );
      assert.deepEqual(q.body.map((p) => p.name).sort(), ['list-a', 'list-b']);
    });

    test('a project with repositories is not deletable until they are gone', async () => {
      await api.expect(201, 'POST', '/projects', { project_name: 'busy' });
      const client = new RegistryClient(berth.url);
      await client.pushImage('busy/app', makeImage(), 'v1');
      const d = (
        await api.expect<{ deletable: boolean; message: string }>(200, 'GET', '/projects/busy/_deletable')
      ).body;
      assert.equal(d.deletable, false);
      assert.match(d.message, /repositor/);
      await api.expectError(412, 'PRECONDITION', 'DELETE', '/projects/busy');
      const p = (await api.expect<Project>(200, 'GET', '/projects/busy')).body;
      assert.equal(p.repo_count, 1);
      await api.expect(200, 'DELETE', '/projects/busy/repositories/app');
      await api.expect(200, 'DELETE', '/projects/busy');
    });

    test('bad input is refused with Harbor errors and changes nothing', async () => {
      await api.expectError(400, 'BAD_REQUEST', 'POST', '/projects', { project_name: 'x'.repeat(256) });
      await api.expectError(400, 'BAD_REQUEST', 'POST', '/projects', { project_name: 'Upper' });
      await api.expectError(400, 'BAD_REQUEST', 'POST', '/projects', { project_name: 'a--' });
      await api.expectError(400, 'BAD_REQUEST', 'POST', '/projects', { project_name: 'ok1', surprise: 1 });
      await api.expectError(400, 'BAD_REQUEST', 'POST', '/projects', { project_name: 42 });
      await api.expectError(400, 'BAD_REQUEST', 'POST', '/projects', '{"project_name": ');
      await api.expectError(400, 'BAD_REQUEST', 'POST', '/projects', {
        project_name: 'ok2',
        metadata: { public: 'yes' },
      });
      await api.expectError(400, 'BAD_REQUEST', 'GET', '/projects?page_size=101');
      await api.expectError(400, 'BAD_REQUEST', 'GET', '/projects?page_size=ten');
      await api.expectError(400, 'BAD_REQUEST', 'GET', `/projects?q=${encodeURIComponent('name=[a')}`);
      await api.expectError(400, 'BAD_REQUEST', 'GET', `/projects?q=${encodeURIComponent('nosuchkey=1')}`);
      // An unknown sort key is ignored, as Harbor ignores it: the default order stands.
      const byDefault = await api.expect<{ name: string }[]>(200, 'GET', '/projects?page_size=100');
      const ignored = await api.expect<{ name: string }[]>(
        200,
        'GET',
        '/projects?sort=password&page_size=100',
      );
      assert.deepEqual(
        ignored.body.map((p) => p.name),
        byDefault.body.map((p) => p.name),
      );
      await api.expectError(404, 'NOT_FOUND', 'GET', '/projects/999999');
      await api.expectError(404, 'NOT_FOUND', 'DELETE', '/projects/999999');
      await api.expectError(409, 'CONFLICT', 'POST', '/projects', { project_name: 'list-a' });
      for (const n of ['ok1', 'ok2', 'upper'])
        await api.expectError(404, 'NOT_FOUND', 'GET', `/projects/${n}`);
    });
  });
}
