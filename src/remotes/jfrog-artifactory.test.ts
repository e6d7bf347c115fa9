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

// Artifactory REST: GET /artifactory/api/repositories?packageType=docker, per-repository Docker catalog,
// PUT /artifactory/api/repositories/{key}; registry in the repository-path method behind a token realm.
describe('jfrog-artifactory adapter against a recorded Artifactory API', () => {
  let server: FakeServer;
  let remote: RemoteRegistry;
  const created: unknown[] = [];
  const ok = (h: string | undefined) =>
    basicOf(h)?.username === 'deployer' && basicOf(h)?.password === 'AKCp8key';
  before(async () => {
    server = await startFakeHttp([
      [
        'GET',
        '/artifactory/api/repositories',
        (req) =>
          ok(req.headers.authorization)
            ? {
                json: [
                  {
                    key: 'docker-local',
                    type: 'LOCAL',
                    packageType: 'Docker',
                    url: 'https://acme.jfrog.io/artifactory/docker-local',
                  },
                  {
                    key: 'dockerhub-remote',
                    type: 'REMOTE',
                    packageType: 'Docker',
                    url: 'https://acme.jfrog.io/artifactory/dockerhub-remote',
                  },
                ],
              }
            : { status: 401, json: { errors: [{ status: 401, message: 'Bad credentials' }] } },
      ],
      [
        'GET',
        '/artifactory/api/docker/docker-local/v2/_catalog',
        () => ({ json: { repositories: ['app', 'tools/cli'] } }),
      ],
      [
        'GET',
        '/artifactory/api/docker/dockerhub-remote/v2/_catalog',
        () => ({ json: { repositories: ['library/alpine'] } }),
      ],
      [
        'GET',
        /^\/artifactory\/api\/repositories\/([\w-]+)$/,
        (_req, m) =>
          m[1] === 'docker-local'
            ? { json: { key: 'docker-local', rclass: 'local', packageType: 'docker' } }
            : { status: 400, json: { errors: [{ status: 400, message: 'Bad Request' }] } },
      ],
      [
        'PUT',
        /^\/artifactory\/api\/repositories\/([\w-]+)$/,
        (req) => {
          created.push(JSON.parse(req.body.toString()));
          return { status: 200, body: 'Successfully created repository' };
        },
      ],
      ...fakeV2Routes({
        repositories: { 'docker-local/app': { '1.0': fakeManifest('a') } },
        authorized: (h) => h === 'Bearer art-token',
        bearer: {
          realm: '/artifactory/api/docker/docker-local/v2/token',
          service: 'acme.jfrog.io',
          token: 'art-token',
          accepts: ok,
        },
      }),
    ]);
    remote = createRemote({
      type: 'jfrog-artifactory',
      name: 'jfrog',
      url: server.url,
      credential: { type: 'basic', accessKey: 'deployer', accessSecret: 'AKCp8key' },
    });
  });
  after(async () => {
    await remote.close();
    await server.close();
  });

  it('lists Docker repositories as namespaces and their images as repositories', async () => {
    await remote.ping();
    assert.deepEqual(await remote.listNamespaces(), ['docker-local', 'dockerhub-remote']);
    assert.deepEqual(await remote.listRepositories(), [
      'docker-local/app',
      'docker-local/tools/cli',
      'dockerhub-remote/library/alpine',
    ]);
    assert.deepEqual((await remote.listArtifacts('docker-local/app'))[0]?.tags, ['1.0']);
  });

  it('creates a missing local Docker repository before a push', async () => {
    await remote.prepareForPush(['docker-local/app', 'mirror/app']);
    assert.deepEqual(created, [
      { key: 'mirror', rclass: 'local', packageType: 'docker', dockerApiVersion: 'V2' },
    ]);
  });

  it('reports bad credentials', async () => {
    const wrong = createRemote({
      type: 'jfrog-artifactory',
      name: 'jfrog',
      url: server.url,
      credential: { type: 'basic', accessKey: 'deployer', accessSecret: 'x' },
    });
    try {
      await assert.rejects(
        wrong.listRepositories(),
        /authentication failed for jfrog \(list Docker repositories\): 401 .*Bad credentials/,
      );
    } finally {
      await wrong.close();
    }
  });
});
