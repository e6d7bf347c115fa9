import assert from 'node:assert/strict';
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
import { signSdkHmac } from './huawei-swr.js';
import { createRemote } from './remotes.js';

const ak = 'HPUAEXAMPLEAK';
const sk = 'exampleSecretKey';

/** Recomputes Huawei's SDK-HMAC-SHA256 signature over the signed headers the request names. */
function validSignature(req: FakeRequest): boolean {
  const auth = String(req.headers.authorization ?? '');
  const signed = /SignedHeaders=([^,]+)/.exec(auth)?.[1]?.split(';') ?? [];
  const headers: Record<string, string> = {};
  for (const n of signed) if (n !== 'host' && n !== 'x-sdk-date') headers[n] = String(req.headers[n]);
  const d = String(req.headers['x-sdk-date']);
  const date = new Date(
    `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`,
  );
  const url = new URL(`http://${req.headers.host}${req.url.pathname}${req.url.search}`);
  return signSdkHmac(req.method, url, headers, req.body.toString(), ak, sk, date).authorization === auth;
}

// SWR API: /v2/manage/namespaces, /v2/manage/repos (limit/offset), /v2/manage/utils/secret.
describe('huawei-SWR adapter against a recorded SWR API', () => {
  let server: FakeServer;
  let remote: RemoteRegistry;
  const created: unknown[] = [];
  before(async () => {
    const guard = (req: FakeRequest, reply: () => { status?: number; json?: unknown }) =>
      validSignature(req)
        ? reply()
        : {
            status: 401,
            json: {
              error_code: 'APIGW.0301',
              error_msg: 'Incorrect IAM authentication information: verify aksk signature fail',
            },
          };
    server = await startFakeHttp([
      [
        'GET',
        '/v2/manage/namespaces',
        (req) =>
          guard(req, () => ({
            json: { namespaces: [{ id: 1, name: 'prod', creator_name: 'alice', auth: 7 }] },
          })),
      ],
      [
        'POST',
        '/v2/manage/namespaces',
        (req) =>
          guard(req, () => {
            created.push(JSON.parse(req.body.toString()));
            return { status: 201 };
          }),
      ],
      [
        'GET',
        '/v2/manage/repos',
        (req) =>
          guard(req, () => ({
            json: [{ name: 'web', namespace: 'prod', category: 'linux', num_images: 2, tags: ['v1'] }],
          })),
      ],
      [
        'POST',
        '/v2/manage/utils/secret',
        (req) =>
          guard(req, () => ({
            json: {
              auths: {
                'swr.cn-north-4.myhuaweicloud.com': {
                  auth: Buffer.from(`cn-north-4@${ak}:templogin`).toString('base64'),
                },
              },
            },
          })),
      ],
      ...fakeV2Routes({
        repositories: { 'prod/web': { v1: fakeManifest('w') } },
        authorized: (h) =>
          basicOf(h)?.username === `cn-north-4@${ak}` && basicOf(h)?.password === 'templogin',
      }),
    ]);
    remote = createRemote({
      type: 'huawei-SWR',
      name: 'swr',
      url: server.url,
      credential: { type: 'basic', accessKey: ak, accessSecret: sk },
    });
  });
  after(async () => {
    await remote.close();
    await server.close();
  });

  it('signs API calls with AK/SK and logs in to the registry with the temporary login', async () => {
    await remote.ping();
    assert.deepEqual(await remote.listNamespaces(), ['prod']);
    assert.deepEqual(await remote.listRepositories(), ['prod/web']);
    assert.deepEqual((await remote.listArtifacts('prod/web'))[0]?.tags, ['v1']);
  });

  it('creates missing namespaces before a push', async () => {
    await remote.prepareForPush(['prod/web', 'staging/web']);
    assert.deepEqual(created, [{ namespace: 'staging' }]);
  });

  it('reports a wrong secret key in SWR words', async () => {
    const wrong = createRemote({
      type: 'huawei-SWR',
      name: 'swr',
      url: server.url,
      credential: { type: 'basic', accessKey: ak, accessSecret: 'bad' },
    });
    try {
      await assert.rejects(
        wrong.ping(),
        /authentication failed for swr \(get a temporary docker login\): 401 .*verify aksk signature fail/,
      );
    } finally {
      await wrong.close();
    }
  });
});
