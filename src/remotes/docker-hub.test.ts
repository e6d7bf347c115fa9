import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  basicOf,
  fakeManifest,
  fakeV2Routes,
  startFakeHttp,
  type FakeServer,
} from '../../test/helpers/fake-http.js';
import type { RemoteRegistry } from './adapter.js';
import { adapterInfos, createRemote } from './remotes.js';

// Shapes of hub.docker.com's API (v2/users/login, v2/repositories/...) and of registry-1's token service.
const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln';

describe('docker-hub adapter against a recorded Hub API', () => {
  let server: FakeServer;
  let remote: RemoteRegistry;
  const orgs: unknown[] = [];
  const hubAuth = (h: string | undefined) => h === `Bearer ${jwt}`;
  before(async () => {
    server = await startFakeHttp([
      [
        'POST',
        '/v2/users/login',
        (req) => {
          const b = JSON.parse(req.body.toString()) as { username: string; password: string };
          return b.username === 'alice' && b.password === 'pat'
            ? { json: { token: jwt } }
            : { status: 401, json: { detail: 'Incorrect authentication credentials' } };
        },
      ],
      [
        'GET',
        '/v2/repositories/namespaces/',
        (req) =>
          hubAuth(req.headers.authorization)
            ? { json: { namespaces: ['alice', 'acme'] } }
            : { status: 401, json: {} },
      ],
      [
        'GET',
        /^\/v2\/repositories\/(\w+)\/$/,
        (req, m) => {
          const page = Number(req.url.searchParams.get('page'));
          if (m[1] === 'alice') return { json: { count: 0, next: null, previous: null, results: [] } };
          return page === 1
            ? {
                json: {
                  count: 2,
                  next: `${server.url}/v2/repositories/acme/?page=2&page_size=100`,
                  results: [{ name: 'web', namespace: 'acme', repository_type: 'image' }],
                },
              }
            : {
                json: {
                  count: 2,
                  next: null,
                  results: [{ name: 'db', namespace: 'acme', repository_type: 'image' }],
                },
              };
        },
      ],
      [
        'GET',
        '/v2/repositories/acme/web/tags/',
        () => ({
          json: {
            count: 2,
            next: null,
            results: [
              { name: 'latest', digest: 'sha256:x', images: [] },
              { name: '1.0', images: [] },
            ],
          },
        }),
      ],
      [
        'DELETE',
        '/v2/repositories/acme/web/tags/1.0/',
        (req) => ({ status: hubAuth(req.headers.authorization) ? 204 : 401 }),
      ],
      [
        'GET',
        /^\/v2\/orgs\/(\w+)\/$/,
        (_req, m) =>
          m[1] === 'acme' ? { json: { orgname: 'acme' } } : { status: 404, json: { detail: 'Not found' } },
      ],
      [
        'POST',
        '/v2/orgs/',
        (req) => {
          orgs.push(JSON.parse(req.body.toString()));
          return { status: 201, json: {} };
        },
      ],
      ...fakeV2Routes({
        repositories: { 'acme/web': { latest: fakeManifest('1'), '1.0': fakeManifest('1') } },
        authorized: (h) => h === 'Bearer registry-token',
        bearer: {
          realm: '/token',
          service: 'registry.docker.io',
          token: 'registry-token',
          accepts: (h) => basicOf(h)?.password === 'pat',
        },
      }),
    ]);
    remote = createRemote({
      type: 'docker-hub',
      name: 'hub',
      url: server.url,
      credential: { type: 'basic', accessKey: 'alice', accessSecret: 'pat' },
    });
  });
  after(async () => {
    await remote.close();
    await server.close();
  });

  it('is listed with its fixed endpoint and two-component names', () => {
    assert.deepEqual(adapterInfos()['docker-hub']?.endpointPattern, {
      endpointType: 'EndpointPatternTypeFix',
      endpoints: [{ key: 'hub.docker.com', value: 'https://hub.docker.com' }],
    });
    assert.equal(remote.info().supportedRepositoryPathComponentType, 'ONLY_TWO');
  });

  it('logs in, then lists namespaces, repositories (paged) and artifacts', async () => {
    await remote.ping();
    assert.deepEqual(await remote.listNamespaces(), ['acme', 'alice']);
    assert.deepEqual(await remote.listRepositories(), ['acme/db', 'acme/web']);
    const arts = await remote.listArtifacts('acme/web');
    assert.equal(arts.length, 1);
    assert.deepEqual(arts[0]!.tags, ['1.0', 'latest']);
    const logins = server.requests.filter((r) => r.url.pathname === '/v2/users/login');
    assert.equal(logins.length, 1, 'the JWT is reused');
  });

  it('deletes by tag and creates missing organisations', async () => {
    await remote.deleteManifest('acme/web', '1.0');
    await remote.prepareForPush(['acme/web', 'neworg/app']);
    assert.deepEqual(orgs, [{ orgname: 'neworg', full_name: 'neworg', company: 'neworg' }]);
  });

  it('says authentication failed when the Hub login is refused', async () => {
    const wrong = createRemote({
      type: 'docker-hub',
      name: 'hub',
      url: server.url,
      credential: { type: 'basic', accessKey: 'alice', accessSecret: 'bad' },
    });
    try {
      await assert.rejects(
        wrong.ping(),
        /authentication failed for hub \(log in to Docker Hub\): 401 .*Incorrect authentication credentials/,
      );
    } finally {
      await wrong.close();
    }
  });
});
