import type {
  AdapterPattern,
  ListOptions,
  RemoteOptions,
  RemoteRegistryConfig,
  RepositoryListOptions,
} from './adapter.js';
import type { Authorizer } from './auth.js';
import { DockerRegistryAdapter, filterRepositories, normalizeUrl } from './docker-registry.js';
import type { RemoteHttp } from './http.js';
import { signV4 } from './sigv4.js';

/**
 * `aws-ecr`: Amazon ECR. The access key id and secret sign (SigV4) calls to ECR's JSON API:
 * GetAuthorizationToken yields a 12-hour basic credential and the registry host (proxyEndpoint);
 * DescribeRepositories lists repositories; CreateRepository prepares a push; BatchDeleteImage deletes.
 * The URL may be the API (`https://api.ecr.<region>.amazonaws.com`) or the registry
 * (`https://<account>.dkr.ecr.<region>.amazonaws.com`); any other URL is taken as an ECR-compatible
 * API endpoint in us-east-1.
 */

const ecrUrl =
  /^https:\/\/(?:api|(\d+)\.dkr)\.ecr(-fips)?\.([\w-]+)\.(amazonaws\.com(?:\.cn)?|sc2s\.sgov\.gov|c2s\.ic\.gov)/;
const target = 'AmazonEC2ContainerRegistry_V20150921';
const authErrors = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
  'ExpiredTokenException',
]);

export const awsRegions = [
  'us-east-2',
  'us-east-1',
  'us-west-1',
  'us-west-2',
  'af-south-1',
  'ap-east-1',
  'ap-south-1',
  'ap-northeast-3',
  'ap-northeast-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-northeast-1',
  'ca-central-1',
  'cn-north-1',
  'cn-northwest-1',
  'eu-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-south-1',
  'eu-west-3',
  'eu-north-1',
  'me-south-1',
  'sa-east-1',
];

export const ecrPattern: AdapterPattern = {
  endpointPattern: {
    endpointType: 'EndpointPatternTypeList',
    endpoints: awsRegions.map((r) => ({ key: r, value: `https://api.ecr.${r}.amazonaws.com` })),
  },
  credentialPattern: null,
};

/** Calls ECR's JSON API and keeps the registry credential fresh. */
class EcrApi implements Authorizer {
  private credential: { header: string; expiresAt: number } | undefined;
  onEndpoint: (url: string) => void = () => undefined;

  constructor(
    private readonly http: RemoteHttp,
    private readonly apiUrl: string,
    private readonly region: string,
    private readonly accessKeyId: string,
    private readonly secretAccessKey: string,
  ) {}

  async call<T>(
    operation: string,
    action: string,
    payload: object,
    signal?: AbortSignal,
    accept: string[] = [],
  ): Promise<T | { __type: string }> {
    const body = JSON.stringify(payload);
    const url = new URL(this.apiUrl);
    const headers = signV4({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${target}.${action}` },
      body,
      region: this.region,
      service: 'ecr',
      accessKeyId: this.accessKeyId,
      secretAccessKey: this.secretAccessKey,
    });
    const res = await this.http.send({
      operation,
      method: 'POST',
      url: url.toString(),
      headers,
      body,
      signal,
    });
    if (res.status === 200) return this.http.json<T>(operation, res);
    const text = await res.body.text();
    let type = '';
    try {
      type = ((JSON.parse(text) as { __type?: string }).__type ?? '').split('#').pop()!;
    } catch {
      // not JSON
    }
    if (accept.includes(type)) return { __type: type };
    if (authErrors.has(type) || res.status === 401 || res.status === 403) {
      throw this.http.answerError(operation, res.status, text, 'auth');
    }
    throw this.http.answerError(operation, res.status, text);
  }

  async header(_scopes: string[], signal?: AbortSignal): Promise<string> {
    if (!this.credential || this.credential.expiresAt < Date.now()) {
      const out = (await this.call<{
        authorizationData: { authorizationToken: string; expiresAt: number; proxyEndpoint: string }[];
      }>('get an ECR authorization token', 'GetAuthorizationToken', {}, signal)) as {
        authorizationData: { authorizationToken: string; expiresAt: number; proxyEndpoint: string }[];
      };
      const data = out.authorizationData[0];
      if (!data)
        throw this.http.error(
          'get an ECR authorization token',
          'invalid',
          'ECR returned no authorization data',
        );
      this.onEndpoint(normalizeUrl(data.proxyEndpoint));
      // Refresh five minutes before ECR's expiry (epoch seconds).
      this.credential = {
        header: `Basic ${data.authorizationToken}`,
        expiresAt: data.expiresAt * 1000 - 5 * 60_000,
      };
    }
    return this.credential.header;
  }

  async challenged(): Promise<string[] | undefined> {
    const had = this.credential;
    this.credential = undefined;
    return had ? [] : undefined;
  }
}

export class AwsEcrAdapter extends DockerRegistryAdapter {
  override readonly type: string = 'aws-ecr';
  private readonly ecr: EcrApi;

  constructor(config: RemoteRegistryConfig, options: RemoteOptions = {}) {
    const url = normalizeUrl(config.url);
    const m = ecrUrl.exec(url);
    const region = m?.[3] ?? 'us-east-1';
    const apiUrl = m ? `https://api.ecr${m[2] ?? ''}.${region}.${m[4]}` : url;
    let api: EcrApi | undefined;
    const c = config.credential;
    super({ ...config, url }, options, {
      authorizer: (http) =>
        (api = new EcrApi(http, apiUrl, region, c?.accessKey ?? '', c?.accessSecret ?? '')),
    });
    this.ecr = api!;
    this.ecr.onEndpoint = (endpoint) => {
      this.client.baseUrl = endpoint;
    };
  }

  override async listRepositories(options: RepositoryListOptions = {}): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = (await this.ecr.call(
        'list repositories',
        'DescribeRepositories',
        { maxResults: 1000, ...(nextToken ? { nextToken } : {}) },
        options.signal,
      )) as {
        repositories: { repositoryName: string }[];
        nextToken?: string;
      };
      names.push(...page.repositories.map((r) => r.repositoryName));
      nextToken = page.nextToken;
    } while (nextToken);
    return filterRepositories(names.sort(), options);
  }

  override async prepareForPush(repositories: string[], options: ListOptions = {}): Promise<void> {
    for (const repositoryName of new Set(repositories)) {
      const found = await this.ecr.call(
        'check repository ' + repositoryName,
        'DescribeRepositories',
        { repositoryNames: [repositoryName] },
        options.signal,
        ['RepositoryNotFoundException'],
      );
      if (!('__type' in (found as object))) continue;
      await this.ecr.call(
        'create repository ' + repositoryName,
        'CreateRepository',
        { repositoryName },
        options.signal,
        ['RepositoryAlreadyExistsException'],
      );
    }
  }

  override async deleteManifest(
    repository: string,
    reference: string,
    options: ListOptions = {},
  ): Promise<void> {
    const imageId = reference.includes(':') ? { imageDigest: reference } : { imageTag: reference };
    await this.ecr.call(
      `delete ${repository}:${reference}`,
      'BatchDeleteImage',
      { repositoryName: repository, imageIds: [imageId] },
      options.signal,
    );
  }
}
