import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  basicOf,
  fakeManifest,
  fakeV2Routes,
  startFakeHttp,
  type FakeReply,
  type FakeServer,
} from '../../test/helpers/fake-http.js';
import type { RemoteRegistry } from './adapter.js';
import { createRemote } from './remotes.js';

// GitLab REST v4 (projects?membership=true, projects/:id/registry/repositories, X-Next-Page paging) and
// the registry's challenge to /jwt/auth.
describe('gitlab adapter against a recorded GitLab API', () => {
  let server: FakeServer;
  let remote: RemoteRegistry;
  before(async () => {
    server = await startFakeHttp([
      [
        'GET',
        '/api/v4/projects',
        (req): FakeReply => {
          if (req.headers['private-token'] !== 'glpat-123')
            return { status: 401, json: { message: '401 Unauthorized' } };
          assert.equal(req.url.searchParams.get('membership'), 'true');
          return req.url.searchParams.get('page') === '1'
            ? {
                json: [{ id: 11, path_with_namespace: 'group/app' }],
                headers: { 'x-next-page': '2', 'x-total-pages': '2' },
              }
            : { json: [{ id: 12, path_with_namespace: 'group/empty' }], headers: { 'x-next-page': '' } };
        },
      ],
      [
        'GET',
        '/api/v4/projects/11/registry/repositories',
        () => ({
          json: [
            {
              id: 1,
              name: '',
              path: 'group/app',
              project_id: 11,
              location: 'registry.example.com/group/app',
            },
            {
              id: 2,
              name: 'worker',
              path: 'group/app/worker',
              project_id: 11,
              location: 'registry.example.com/group/app/worker',
            },
          ],
        }),
      ],
      ['GET', '/api/v4/projects/12/registry/repositories', () => ({ json: [] })],
      ...fakeV2Routes({
        repositories: { 'group/app/worker': { main: fakeManifest('w') } },
        authorized: (h) => h === 'Bearer gl-jwt',
        bearer: {
          realm: '/jwt/auth',
          service: 'container_registry',
          token: 'gl-jwt',
          accepts: (h) => basicOf(h)?.password === 'glpat-123',
        },
      }),
    ]);
    remote = createRemote({
      type: 'gitlab',
      name: 'gl',
      url: server.url,
      credential: { type: 'basic', accessKey: 'alice', accessSecret: 'glpat-123' },
    });
  });
  after(async () => {
    await remote.close();
    await server.close();
  });

  it('lists the registry repositories of member projects across pages', async () => {
    await remote.ping();
    assert.deepEqual(await remote.listRepositories(), ['group/app', 'group/app/worker']);
    assert.deepEqual((await remote.listArtifacts('group/app/worker'))[0]?.tags, ['main']);
    const jwt = server.requests.find((r) => r.url.pathname === '/jwt/auth');
    assert.equal(jwt?.url.searchParams.get('service'), 'container_registry');
  });

  it('reports a revoked token', async () => {
    const wrong = createRemote({
      type: 'gitlab',
      name: 'gl',
      url: server.url,
      credential: { type: 'basic', accessKey: 'alice', accessSecret: 'revoked' },
    });
    try {
      await assert.rejects(wrong.listRepositories(), /authentication failed for gl \(list projects\): 401/);
    } finally {
      await wrong.close();
    }
  });
});
