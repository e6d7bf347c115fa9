import { createSign } from 'node:crypto';
import type { AdapterPattern, RemoteOptions, RemoteRegistryConfig } from './adapter.js';
import type { BasicCredentials } from './auth.js';
import { DockerRegistryAdapter } from './docker-registry.js';
import type { RemoteHttp } from './http.js';

/**
 * `google-gcr`: Google Container Registry and Artifact Registry. The access key is `_json_key` and the
 * secret a service account's JSON key: its private key signs a JWT assertion that Google's OAuth2 token
 * endpoint exchanges for an access token, which the registry accepts as the password of the user
 * `oauth2accesstoken`. Repositories come from `/v2/_catalog`.
 */

export const gcrPattern: AdapterPattern = {
  endpointPattern: {
    endpointType: 'EndpointPatternTypeList',
    endpoints: ['gcr.io', 'us.gcr.io', 'eu.gcr.io', 'asia.gcr.io'].map((h) => ({
      key: h,
      value: `https://${h}`,
    })),
  },
  credentialPattern: {
    accessKeyType: 'AccessKeyTypeFix',
    accessKeyData: '_json_key',
    accessSecretType: 'AccessSecretTypeFile',
    accessSecretData: 'No Change',
  },
};

interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
}

const scope = 'https://www.googleapis.com/auth/cloud-platform';
const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** Mints and caches OAuth2 access tokens from a service-account key. */
class ServiceAccountTokens {
  private cached: { token: string; expiresAt: number } | undefined;

  constructor(
    private readonly http: () => RemoteHttp,
    private readonly secret: string,
  ) {}

  private key(): ServiceAccountKey {
    let key: Partial<ServiceAccountKey>;
    try {
      key = JSON.parse(this.secret) as Partial<ServiceAccountKey>;
    } catch {
      key = {};
    }
    if (!key.client_email || !key.private_key) {
      throw this.http().error(
        'read the service-account key',
        'invalid',
        'the access secret is not a service-account JSON key (client_email and private_key are required)',
      );
    }
    return key as ServiceAccountKey;
  }

  async credentials(signal?: AbortSignal): Promise<BasicCredentials> {
    if (!this.cached || this.cached.expiresAt < Date.now()) {
      const key = this.key();
      const tokenUri = key.token_uri ?? 'https://oauth2.googleapis.com/token';
      const now = Math.floor(Date.now() / 1000);
      const header = b64url(
        JSON.stringify({
          alg: 'RS256',
          typ: 'JWT',
          ...(key.private_key_id ? { kid: key.private_key_id } : {}),
        }),
      );
      const claims = b64url(
        JSON.stringify({ iss: key.client_email, scope, aud: tokenUri, iat: now, exp: now + 3600 }),
      );
      let signature: string;
      try {
        signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(key.private_key, 'base64url');
      } catch (err) {
        throw this.http().error(
          'sign the service-account assertion',
          'invalid',
          `the private key is unusable (${(err as Error).message})`,
        );
      }
      const operation = 'get an OAuth2 access token';
      const res = await this.http().send({
        operation,
        method: 'POST',
        url: tokenUri,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          assertion: `${header}.${claims}.${signature}`,
        }).toString(),
        signal,
      });
      if (res.status !== 200) {
        const text = await res.body.text();
        // Google answers a bad key or revoked account with 400 invalid_grant.
        throw this.http().answerError(
          operation,
          res.status,
          text,
          res.status === 400 || res.status === 401 ? 'auth' : undefined,
        );
      }
      const body = await this.http().json<{ access_token?: string; expires_in?: number }>(operation, res);
      if (!body.access_token)
        throw this.http().error(operation, 'invalid', 'the token endpoint answered without access_token');
      this.cached = {
        token: body.access_token,
        expiresAt: Date.now() + Math.max(60, (body.expires_in ?? 3600) - 60) * 1000,
      };
    }
    return { username: 'oauth2accesstoken', password: this.cached.token };
  }
}

export class GoogleGcrAdapter extends DockerRegistryAdapter {
  override readonly type: string = 'google-gcr';

  constructor(config: RemoteRegistryConfig, options: RemoteOptions = {}) {
    // The token exchange uses this adapter's HTTP client, which exists only once super() has run.
    const late: { http?: RemoteHttp } = {};
    const tokens = new ServiceAccountTokens(() => late.http!, config.credential?.accessSecret ?? '');
    super(config, options, {
      credentials: config.credential?.accessSecret ? (signal) => tokens.credentials(signal) : undefined,
    });
    late.http = this.http;
  }
}
