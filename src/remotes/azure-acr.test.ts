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

// ACR challenges with `Bearer realm="https://<name>.azurecr.io/oauth2/token",service="<name>.azurecr.io"`
// and exchanges the admin user's basic credentials there for an access token.
describe('azure-acr adapter against a recorded ACR token exchange and catalog', () => {
  let server: FakeServer;
  let remote: RemoteRegistry;
  before(async () => {
    server = await startFakeHttp(
      fakeV2Routes({
        repositories: {
          'hello-world': { v1: fakeManifest('h') },
          'samples/nginx': { latest: fakeManifest('n') },
        },
        authorized: (h) => h === 'Bearer acr-access-token',
        bearer: {
          realm: '/oauth2/token',
          service: 'myregistry.azurecr.io',
          token: 'acr-access-token',
          accepts: (h) => basicOf(h)?.username === 'myregistry' && basicOf(h)?.password === 'admin-pw',
        },
        catalog: true,
      }),
    );
    remote = createRemote({
      type: 'azure-acr',
      name: 'acr',
      url: server.url,
      credential: { type: 'basic', accessKey: 'myregistry', accessSecret: 'admin-pw' },
    });
  });
  after(async () => {
    await remote.close();
    await server.close();
  });

  it('exchanges the admin credentials for a scoped token and lists the catalog', async () => {
    await remote.ping();
    assert.deepEqual(await remote.listRepositories(), ['hello-world', 'samples/nginx']);
    assert.deepEqual(
      (await remote.listArtifacts('samples/nginx')).map((a) => a.tags),
      [['latest']],
    );
    const tokenCalls = server.requests.filter((r) => r.url.pathname === '/oauth2/token');
    assert.ok(tokenCalls.some((r) => r.url.searchParams.getAll('scope').includes('registry:catalog:*')));
    assert.ok(tokenCalls.every((r) => r.url.searchParams.get('service') === 'myregistry.azurecr.io'));
  });

  it('reports refused admin credentials', async () => {
    const wrong = createRemote({
      type: 'azure-acr',
      name: 'acr',
      url: server.url,
      credential: { type: 'basic', accessKey: 'myregistry', accessSecret: 'x' },
    });
    try {
      await assert.rejects(
        wrong.ping(),
        /authentication failed for acr \(get a token\): 401 .*bad credentials/,
      );
      assert.equal(await wrong.healthCheck(), 'unhealthy');
    } finally {
      await wrong.close();
    }
  });
});
