import assert from 'node:assert/strict';
import { createVerify, generateKeyPairSync } from 'node:crypto';
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

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

// Google's OAuth2 JWT-bearer grant (oauth2.googleapis.com/token) and GCR's bearer challenge, which
// accepts `oauth2accesstoken:<access token>` as basic credentials.
describe('google-gcr adapter with a service-account key', () => {
  let server: FakeServer;
  let remote: RemoteRegistry;
  let keyJson: string;
  before(async () => {
    server = await startFakeHttp();
    keyJson = JSON.stringify({
      type: 'service_account',
      project_id: 'demo',
      private_key_id: 'k1',
      private_key: pem,
      client_email: 'replicator@demo.iam.gserviceaccount.com',
      token_uri: `${server.url}/token`,
    });
    server.routes.push(
      [
        'POST',
        '/token',
        (req) => {
          const form = new URLSearchParams(req.body.toString());
          assert.equal(form.get('grant_type'), 'urn:ietf:params:oauth:grant-type:jwt-bearer');
          const [h, c, s] = form.get('assertion')!.split('.');
          const ok = createVerify('RSA-SHA256').update(`${h}.${c}`).verify(publicKey, s!, 'base64url');
          const claims = JSON.parse(Buffer.from(c!, 'base64url').toString()) as {
            iss: string;
            aud: string;
            scope: string;
          };
          if (
            !ok ||
            claims.iss !== 'replicator@demo.iam.gserviceaccount.com' ||
            claims.aud !== `${server.url}/token`
          ) {
            return {
              status: 400,
              json: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' },
            };
          }
          return { json: { access_token: 'ya29.token', expires_in: 3599, token_type: 'Bearer' } };
        },
      ],
      ...fakeV2Routes({
        repositories: { 'demo/app': { v1: fakeManifest('a') } },
        authorized: (h) => h === 'Bearer gcr-registry-token',
        bearer: {
          realm: '/v2/token',
          service: 'gcr.io',
          token: 'gcr-registry-token',
          accepts: (h) =>
            basicOf(h)?.username === 'oauth2accesstoken' && basicOf(h)?.password === 'ya29.token',
        },
        catalog: true,
      }),
    );
    remote = createRemote({
      type: 'google-gcr',
      name: 'gcr',
      url: server.url,
      credential: { type: 'basic', accessKey: '_json_key', accessSecret: keyJson },
    });
  });
  after(async () => {
    await remote.close();
    await server.close();
  });

  it('asks for _json_key and a key file, on the gcr.io endpoints', () => {
    const p = adapterInfos()['google-gcr'];
    assert.equal(p?.credentialPattern?.accessKeyData, '_json_key');
    assert.equal(p?.credentialPattern?.accessSecretType, 'AccessSecretTypeFile');
    assert.deepEqual(
      p?.endpointPattern?.endpoints?.map((e) => e.key),
      ['gcr.io', 'us.gcr.io', 'eu.gcr.io', 'asia.gcr.io'],
    );
  });

  it('exchanges a signed JWT assertion for an access token and lists the catalog', async () => {
    await remote.ping();
    assert.deepEqual(await remote.listRepositories(), ['demo/app']);
    assert.equal(
      server.requests.filter((r) => r.url.pathname === '/token').length,
      1,
      'the access token is cached',
    );
  });

  it('reports a key Google refuses, and a secret that is not a key', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const refused = createRemote({
      type: 'google-gcr',
      name: 'gcr',
      url: server.url,
      credential: {
        type: 'basic',
        accessKey: '_json_key',
        accessSecret: keyJson.replace(JSON.stringify(pem).slice(1, -1), JSON.stringify(other).slice(1, -1)),
      },
    });
    const garbage = createRemote({
      type: 'google-gcr',
      name: 'gcr',
      url: server.url,
      credential: { type: 'basic', accessKey: '_json_key', accessSecret: 'not json' },
    });
    try {
      await assert.rejects(
        refused.ping(),
        /authentication failed for gcr \(get an OAuth2 access token\): 400 .*Invalid JWT Signature/,
      );
      await assert.rejects(garbage.ping(), /the access secret is not a service-account JSON key/);
    } finally {
      await refused.close();
      await garbage.close();
    }
  });
});
