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

// GitHub REST `GET /user/packages?package_type=container` and ghcr.io's token exchange.
describe('github-ghcr adapter against recorded GitHub and ghcr.io answers', () => {
  let server: FakeServer;
  let remote: RemoteRegistry;
  before(async () => {
    server = await startFakeHttp([
      [
        'GET',
        '/user/packages',
        (req) => {
          if (req.headers.authorization !== 'Bearer ghp_token')
            return {
              status: 401,
              json: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' },
            };
          assert.equal(req.url.searchParams.get('package_type'), 'container');
          return {
            json: [
              {
                id: 1,
                name: 'web',
                package_type: 'container',
                owner: { login: 'Octo-Org', type: 'Organization' },
                visibility: 'private',
              },
              {
                id: 2,
                name: 'tools',
                package_type: 'container',
                owner: { login: 'octocat', type: 'User' },
                visibility: 'public',
              },
            ],
          };
        },
      ],
      ...fakeV2Routes({
        repositories: { 'octo-org/web': { main: fakeManifest('m'), 'sha-1': fakeManifest('s') } },
        authorized: (h) => h === 'Bearer ghcr-token',
        bearer: {
          realm: '/token',
          service: 'ghcr.io',
          token: 'ghcr-token',
          accepts: (h) => basicOf(h)?.password === 'ghp_token',
        },
      }),
    ]);
    remote = createRemote({
      type: 'github-ghcr',
      name: 'ghcr',
      url: server.url,
      credential: { type: 'basic', accessKey: 'octocat', accessSecret: 'ghp_token' },
    });
  });
  after(async () => {
    await remote.close();
    await server.close();
  });

  it('lists container packages as lower-cased owner/name repositories', async () => {
    await remote.ping();
    assert.deepEqual(await remote.listRepositories(), ['octo-org/web', 'octocat/tools']);
    const tags = (await remote.listArtifacts('octo-org/web')).flatMap((a) => a.tags);
    assert.deepEqual(tags.sort(), ['main', 'sha-1']);
  });

  it('reports a bad token from the API and from the token exchange', async () => {
    const wrong = createRemote({
      type: 'github-ghcr',
      name: 'ghcr',
      url: server.url,
      credential: { type: 'basic', accessKey: 'octocat', accessSecret: 'nope' },
    });
    try {
      await assert.rejects(
        wrong.listRepositories(),
        /authentication failed for ghcr \(list container packages\): 401 .*Bad credentials/,
      );
      await assert.rejects(wrong.ping(), /authentication failed for ghcr \(get a token\): 401/);
    } finally {
      await wrong.close();
    }
  });
});
