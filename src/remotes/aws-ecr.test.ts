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
import { adapterInfos, createRemote } from './remotes.js';
import { signV4 } from './sigv4.js';

const keyId = 'AKIAIOSFODNN7EXAMPLE';
const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

/** Recomputes the SigV4 signature the way ECR does and compares. */
function validSignature(req: FakeRequest): boolean {
  const d = String(req.headers['x-amz-date']);
  const date = new Date(
    `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`,
  );
  const expected = signV4({
    method: 'POST',
    url: new URL(`http://${req.headers.host}${req.url.pathname}`),
    headers: {
      'content-type': String(req.headers['content-type']),
      'x-amz-target': String(req.headers['x-amz-target']),
    },
    body: req.body.toString(),
    region: 'us-east-1',
    service: 'ecr',
    accessKeyId: keyId,
    secretAccessKey: secret,
    date,
  });
  return req.headers.authorization === expected.authorization;
}

// ECR's JSON API (x-amz-json-1.1, X-Amz-Target AmazonEC2ContainerRegistry_V20150921.*) as documented.
describe('aws-ecr adapter against a recorded ECR API', () => {
  let server: FakeServer;
  let remote: RemoteRegistry;
  const calls: string[] = [];
  const created: string[] = [];
  before(async () => {
    server = await startFakeHttp();
    server.routes.push(
      [
        'POST',
        '/',
        (req) => {
          const action = String(req.headers['x-amz-target']).split('.')[1]!;
          calls.push(action);
          if (!validSignature(req)) {
            return {
              status: 400,
              json: {
                __type: 'InvalidSignatureException',
                message: 'The request signature we calculated does not match the signature you provided.',
              },
            };
          }
          const body = JSON.parse(req.body.toString()) as {
            repositoryNames?: string[];
            nextToken?: string;
            repositoryName?: string;
          };
          switch (action) {
            case 'GetAuthorizationToken':
              return {
                json: {
                  authorizationData: [
                    {
                      authorizationToken: Buffer.from('AWS:ecr-password').toString('base64'),
                      expiresAt: Date.now() / 1000 + 43200,
                      proxyEndpoint: server.url,
                    },
                  ],
                },
              };
            case 'DescribeRepositories':
              if (body.repositoryNames) {
                return body.repositoryNames[0] === 'team/web'
                  ? { json: { repositories: [{ repositoryName: 'team/web' }] } }
                  : {
                      status: 400,
                      json: {
                        __type: 'RepositoryNotFoundException',
                        message: `The repository with name '${body.repositoryNames[0]}' does not exist in the registry with id '123456789012'`,
                      },
                    };
              }
              return body.nextToken
                ? {
                    json: {
                      repositories: [
                        {
                          repositoryName: 'team/web',
                          repositoryUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/team/web',
                        },
                      ],
                    },
                  }
                : {
                    json: {
                      repositories: [
                        {
                          repositoryName: 'base',
                          repositoryUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/base',
                        },
                      ],
                      nextToken: 'page2',
                    },
                  };
            case 'CreateRepository':
              created.push(body.repositoryName!);
              return { json: { repository: { repositoryName: body.repositoryName } } };
            case 'BatchDeleteImage':
              return { json: { imageIds: [{ imageTag: 'old' }], failures: [] } };
            default:
              return { status: 400, json: { __type: 'UnknownOperationException' } };
          }
        },
      ],
      ...fakeV2Routes({
        repositories: { 'team/web': { v1: fakeManifest('v') } },
        authorized: (h) => basicOf(h)?.username === 'AWS' && basicOf(h)?.password === 'ecr-password',
      }),
    );
    remote = createRemote({
      type: 'aws-ecr',
      name: 'ecr',
      url: server.url,
      credential: { type: 'basic', accessKey: keyId, accessSecret: secret },
    });
  });
  after(async () => {
    await remote.close();
    await server.close();
  });

  it('offers the regional API endpoints', () => {
    const endpoints = adapterInfos()['aws-ecr']?.endpointPattern?.endpoints ?? [];
    assert.ok(
      endpoints.some((e) => e.key === 'eu-west-1' && e.value === 'https://api.ecr.eu-west-1.amazonaws.com'),
    );
  });

  it('signs GetAuthorizationToken, then uses the basic credential on the proxy endpoint', async () => {
    await remote.ping();
    assert.deepEqual((await remote.listArtifacts('team/web'))[0]?.tags, ['v1']);
    assert.equal(calls.filter((c) => c === 'GetAuthorizationToken').length, 1, 'the 12-hour token is reused');
  });

  it('lists repositories with DescribeRepositories across pages', async () => {
    assert.deepEqual(await remote.listRepositories(), ['base', 'team/web']);
  });

  it('creates only missing repositories, and deletes through BatchDeleteImage', async () => {
    await remote.prepareForPush(['team/web', 'team/new']);
    assert.deepEqual(created, ['team/new']);
    await remote.deleteManifest('team/web', 'old');
    assert.equal(calls.at(-1), 'BatchDeleteImage');
  });

  it('says authentication failed when the secret key is wrong', async () => {
    const wrong = createRemote({
      type: 'aws-ecr',
      name: 'ecr',
      url: server.url,
      credential: { type: 'basic', accessKey: keyId, accessSecret: 'bad' },
    });
    try {
      await assert.rejects(
        wrong.ping(),
        /authentication failed for ecr \(get an ECR authorization token\): 400 .*InvalidSignatureException/,
      );
    } finally {
      await wrong.close();
    }
  });
});
