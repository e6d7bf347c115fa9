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
import { parseQuaySecret } from './quay.js';
import { createRemote } from './remotes.js';

// Quay's /api/v1/user/, /api/v1/repository?namespace= (paged by next_page) and POST /api/v1/repository.
describe('quay adapter against a recorded Quay API', () => {
  let server: FakeServer;
  let remote: RemoteRegistry;
  const createdRepos: unknown[] = [];
  const secret = JSON.stringify({
    account_name: 'acme+robot',
    docker_cli_password: 'robot-pw',
    oauth2_token: 'oauth-tok',
  });
  before(async () => {
    server = await startFakeHttp([
      [
        'GET',
        '/api/v1/user/',
        (req) =>
          req.headers.authorization === 'Bearer oauth-tok'
            ? { json: { username: 'alice', organizations: [{ name: 'acme', is_org_admin: true }] } }
            : { status: 401, json: { error: 'invalid_token', error_message: 'The access token expired' } },
      ],
      [
        'GET',
        '/api/v1/repository',
        (req) => {
          const ns = req.url.searchParams.get('namespace');
          if (ns === 'alice') return { json: { repositories: [] } };
          return req.url.searchParams.get('next_page')
            ? { json: { repositories: [{ namespace: 'acme', name: 'db', is_public: false, kind: 'image' }] } }
            : {
                json: {
                  repositories: [{ namespace: 'acme', name: 'web', is_public: false, kind: 'image' }],
                  next_page: 'gAAAAABk',
                },
              };
        },
      ],
      [
        'GET',
        /^\/api\/v1\/repository\/(.+)$/,
        (_req, m) =>
          m[1] === 'acme/web'
            ? { json: { namespace: 'acme', name: 'web' } }
            : { status: 404, json: { detail: 'Not Found' } },
      ],
      [
        'POST',
        '/api/v1/repository',
        (req) => {
          createdRepos.push(JSON.parse(req.body.toString()));
          return { status: 201, json: { namespace: 'acme', name: 'new' } };
        },
      ],
      ...fakeV2Routes({
        repositories: { 'acme/web': { latest: fakeManifest('w') } },
        authorized: (h) => h === 'Bearer quay-reg',
        bearer: {
          realm: '/v2/auth',
          service: 'quay.io',
          token: 'quay-reg',
          accepts: (h) => basicOf(h)?.username === 'acme+robot' && basicOf(h)?.password === 'robot-pw',
        },
      }),
    ]);
    remote = createRemote({
      type: 'quay',
      name: 'quay',
      url: server.url,
      credential: { type: 'basic', accessKey: 'ignored', accessSecret: secret },
    });
  });
  after(async () => {
    await remote.close();
    await server.close();
  });

  it('reads the JSON secret as Harbor does, and a plain password as itself', () => {
    assert.deepEqual(parseQuaySecret('x', secret), {
      username: 'acme+robot',
      password: 'robot-pw',
      token: 'oauth-tok',
    });
    assert.deepEqual(parseQuaySecret('bob', '{notjson'), { username: 'bob', password: '{notjson' });
  });

  it('lists namespaces and paged repositories with the OAuth token, content with the robot', async () => {
    await remote.ping();
    assert.deepEqual(await remote.listNamespaces(), ['acme', 'alice']);
    assert.deepEqual(await remote.listRepositories(), ['acme/db', 'acme/web']);
    assert.deepEqual((await remote.listArtifacts('acme/web'))[0]?.tags, ['latest']);
  });

  it('creates missing repositories before a push', async () => {
    await remote.prepareForPush(['acme/web', 'acme/new']);
    assert.deepEqual(createdRepos, [
      { namespace: 'acme', repository: 'new', visibility: 'private', description: '', repo_kind: 'image' },
    ]);
  });

  it('reports an expired OAuth token in Quay words', async () => {
    const wrong = createRemote({
      type: 'quay',
      name: 'quay',
      url: server.url,
      credential: {
        type: 'basic',
        accessKey: 'a',
        accessSecret: JSON.stringify({ account_name: 'a', docker_cli_password: 'b', oauth2_token: 'old' }),
      },
    });
    try {
      await assert.rejects(
        wrong.listNamespaces(),
        /authentication failed for quay \(list namespaces\): 401 .*The access token expired/,
      );
    } finally {
      await wrong.close();
    }
  });
});
