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
import { createRemote } from './remotes.js';

// Response shapes as Harbor v2.x answers them (trimmed to the fields the adapter reads, plus neighbours).
const project = (id: number, name: string) => ({
  project_id: id,
  name,
  owner_name: 'admin',
  repo_count: 1,
  metadata: { public: 'false' },
});

describe('harbor adapter against a recorded Harbor API', () => {
  let server: FakeServer;
  let remote: RemoteRegistry;
  const created: unknown[] = [];
  const ok = (h: string | undefined) =>
    basicOf(h)?.username === 'admin' && basicOf(h)?.password === 'Harbor12345';
  before(async () => {
    server = await startFakeHttp([
      [
        'GET',
        '/api/v2.0/projects',
        (req) => {
          if (!ok(req.headers.authorization))
            return { status: 401, json: { errors: [{ code: 'UNAUTHORIZED', message: 'unauthorized' }] } };
          const page = Number(req.url.searchParams.get('page'));
          return page === 1
            ? {
                json: [project(1, 'library'), project(2, 'team')],
                headers: { 'x-total-count': '2', link: '' },
              }
            : { json: [] };
        },
      ],
      [
        'HEAD',
        '/api/v2.0/projects',
        (req) => ({ status: req.url.searchParams.get('project_name') === 'team' ? 200 : 404 }),
      ],
      [
        'POST',
        '/api/v2.0/projects',
        (req) => {
          created.push(JSON.parse(req.body.toString()));
          return { status: 201, headers: { location: '/api/v2.0/projects/3' } };
        },
      ],
      [
        'GET',
        /^\/api\/v2\.0\/projects\/(\w+)\/repositories$/,
        (_req, m) => ({
          json:
            m[1] === 'library'
              ? [{ id: 1, name: 'library/nginx', artifact_count: 1 }]
              : [{ id: 2, name: 'team/a/b', artifact_count: 2 }],
          headers: { 'x-total-count': '1' },
        }),
      ],
      [
        'GET',
        '/api/v2.0/projects/team/repositories/a%252Fb/artifacts',
        (req) => {
          assert.equal(req.url.searchParams.get('with_tag'), 'true');
          return {
            json: [
              {
                id: 7,
                digest: 'sha256:aa',
                manifest_media_type: 'application/vnd.oci.image.index.v1+json',
                media_type: 'application/vnd.oci.image.index.v1+json',
                tags: [
                  { id: 1, name: 'v2' },
                  { id: 2, name: 'latest' },
                ],
                labels: [{ id: 1, name: 'prod' }],
              },
              {
                id: 8,
                digest: 'sha256:bb',
                manifest_media_type: 'application/vnd.oci.image.manifest.v1+json',
                tags: null,
                labels: null,
              },
            ],
          };
        },
      ],
      ...fakeV2Routes({ repositories: { 'team/a/b': { v2: fakeManifest('x') } }, authorized: ok }),
    ]);
    remote = createRemote({
      type: 'harbor',
      name: 'h1',
      url: server.url,
      credential: { type: 'basic', accessKey: 'admin', accessSecret: 'Harbor12345' },
    });
  });
  after(async () => {
    await remote.close();
    await server.close();
  });

  it('declares label filters and event-based triggers', () => {
    const info = remote.info();
    assert.equal(info.type, 'harbor');
    assert.deepEqual(info.supportedTriggers, ['manual', 'scheduled', 'event_based']);
    assert.ok(info.supportedResourceFilters.some((f) => f.type === 'label'));
  });

  it('lists projects as namespaces and repositories through the projects API', async () => {
    await remote.ping();
    assert.deepEqual(await remote.listNamespaces(), ['library', 'team']);
    assert.deepEqual(await remote.listRepositories(), ['library/nginx', 'team/a/b']);
    assert.deepEqual(await remote.listRepositories({ match: (r) => r.startsWith('team/') }), ['team/a/b']);
  });

  it('lists artifacts with tags and labels, double-encoding the repository name', async () => {
    assert.deepEqual(await remote.listArtifacts('team/a/b'), [
      {
        digest: 'sha256:aa',
        mediaType: 'application/vnd.oci.image.index.v1+json',
        tags: ['latest', 'v2'],
        labels: ['prod'],
      },
      { digest: 'sha256:bb', mediaType: 'application/vnd.oci.image.manifest.v1+json', tags: [], labels: [] },
    ]);
  });

  it('creates only the missing destination projects before a push', async () => {
    await remote.prepareForPush(['team/x', 'newproj/y', 'newproj/z']);
    assert.deepEqual(created, [{ project_name: 'newproj', metadata: { public: 'false' } }]);
  });

  it('fails with a wrong password, naming the registry', async () => {
    const wrong = createRemote({
      type: 'harbor',
      name: 'h1',
      url: server.url,
      credential: { type: 'basic', accessKey: 'admin', accessSecret: 'x' },
    });
    try {
      await assert.rejects(
        wrong.listNamespaces(),
        /^RemoteError: authentication failed for h1 \(list projects\): 401 .*unauthorized/,
      );
      await assert.rejects(wrong.ping(), /authentication failed for h1 \(ping\): 401/);
    } finally {
      await wrong.close();
    }
  });
});
