import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  basicOf,
  fakeManifest,
  fakeV2Routes,
  startFakeHttp,
  type FakeRequest,
  type FakeServer,
} from '../../test/helpers/fake-http.js';
import type { RemoteRegistry } from './adapter.js';
import { createRemote } from './remotes.js';

const ak = 'LTAI5tEXAMPLE';
const sk = 'aliSecretExample';

/** Verifies the "acs" signature the way Alibaba's gateway documents it (independent of the adapter). */
function validSignature(req: FakeRequest): boolean {
  const h = req.headers;
  const acs = Object.keys(h)
    .filter((k) => k.startsWith('x-acs-'))
    .sort()
    .map((k) => `${k}:${String(h[k])}\n`)
    .join('');
  const q = [...req.url.searchParams.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const toSign = `${req.method}\n${h.accept ?? ''}\n${h['content-md5'] ?? ''}\n${h['content-type'] ?? ''}\n${h.date}\n${acs}${req.url.pathname}${q ? `?${q}` : ''}`;
  return h.authorization === `acs ${ak}:${createHmac('sha1', sk).update(toSign).digest('base64')}`;
}

// CR API 2016-06-07: GET /tokens, /namespace, /repos?Page=&PageSize= with {data: ...} envelopes.
describe('ali-acr adapter against a recorded CR API', () => {
  let server: FakeServer;
  let remote: RemoteRegistry;
  before(async () => {
    const guard = (req: FakeRequest, data: unknown) =>
      validSignature(req)
        ? { json: { data } }
        : {
            status: 400,
            json: {
              code: 'SignatureDoesNotMatch',
              message: 'Specified signature is not matched with our calculation.',
            },
          };
    server = await startFakeHttp([
      [
        'GET',
        '/tokens',
        (req) =>
          guard(req, {
            authorizationToken: 'ali-temp-pw',
            tempUserName: 'cr_temp_user',
            expireDate: Date.now() + 3600_000,
          }),
      ],
      [
        'GET',
        '/namespace',
        (req) =>
          guard(req, {
            namespaces: [{ namespace: 'acme', authorizeType: 'ADMIN', namespaceStatus: 'NORMAL' }],
          }),
      ],
      [
        'GET',
        '/repos',
        (req) =>
          guard(
            req,
            req.url.searchParams.get('Page') === '1'
              ? {
                  page: 1,
                  pageSize: 100,
                  total: 101,
                  repos: Array.from({ length: 100 }, (_, i) => ({
                    repoName: `r${String(i).padStart(3, '0')}`,
                    repoNamespace: 'acme',
                  })),
                }
              : {
                  page: 2,
                  pageSize: 100,
                  total: 101,
                  repos: [{ repoName: 'web', repoNamespace: 'acme', repoType: 'PRIVATE' }],
                },
          ),
      ],
      ...fakeV2Routes({
        repositories: { 'acme/web': { v1: fakeManifest('w') } },
        authorized: (h) => h === 'Bearer ali-reg',
        bearer: {
          realm: '/auth',
          service: 'registry.aliyuncs.com:cn-hangzhou:26842',
          token: 'ali-reg',
          accepts: (h) => basicOf(h)?.username === 'cr_temp_user' && basicOf(h)?.password === 'ali-temp-pw',
        },
      }),
    ]);
    remote = createRemote({
      type: 'ali-acr',
      name: 'acr-cn',
      url: server.url,
      credential: { type: 'basic', accessKey: ak, accessSecret: sk },
    });
  });
  after(async () => {
    await remote.close();
    await server.close();
  });

  it('signs CR API calls and uses the temporary login at the registry', async () => {
    await remote.ping();
    assert.deepEqual(await remote.listNamespaces(), ['acme']);
    const repos = await remote.listRepositories();
    assert.equal(repos.length, 101);
    assert.ok(repos.includes('acme/web'));
    assert.deepEqual((await remote.listArtifacts('acme/web'))[0]?.tags, ['v1']);
  });

  it('reports a signature the gateway rejects', async () => {
    const wrong = createRemote({
      type: 'ali-acr',
      name: 'acr-cn',
      url: server.url,
      credential: { type: 'basic', accessKey: ak, accessSecret: 'bad' },
    });
    try {
      await assert.rejects(
        wrong.listNamespaces(),
        /authentication failed for acr-cn \(list namespaces\): 400 .*SignatureDoesNotMatch/,
      );
    } finally {
      await wrong.close();
    }
  });
});
