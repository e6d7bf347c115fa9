import { createHmac, randomUUID } from 'node:crypto';
import type {
  AdapterPattern,
  ListOptions,
  RemoteArtifact,
  RemoteOptions,
  RemoteRegistryConfig,
  RepositoryListOptions,
} from './adapter.js';
import type { BasicCredentials } from './auth.js';
import { DockerRegistryAdapter, filterRepositories, normalizeUrl } from './docker-registry.js';
import { ProviderApi } from './provider-api.js';

/**
 * `ali-acr`: Alibaba Cloud Container Registry. The AccessKey id and secret sign calls to the CR API
 * (`cr.<region>.aliyuncs.com`, version 2016-06-07, HMAC-SHA1 "acs" signatures): `/tokens` issues a
 * temporary docker login for the registry, `/namespace` and `/repos` list what can be replicated.
 * ACR creates repositories on push when the namespace allows automatic creation.
 */

const registryHost = /^https:\/\/registry(?:-vpc)?\.([\w-]+)\.aliyuncs\.com/;

export const aliPattern: AdapterPattern = {
  endpointPattern: {
    endpointType: 'EndpointPatternTypeList',
    endpoints: [
      'cn-hangzhou',
      'cn-shanghai',
      'cn-qingdao',
      'cn-beijing',
      'cn-zhangjiakou',
      'cn-huhehaote',
      'cn-shenzhen',
      'cn-chengdu',
      'cn-hongkong',
      'ap-southeast-1',
      'ap-southeast-2',
      'ap-southeast-3',
      'ap-southeast-5',
      'ap-northeast-1',
      'ap-south-1',
      'eu-central-1',
      'eu-west-1',
      'us-west-1',
      'us-east-1',
      'me-east-1',
    ].map((r) => ({ key: r, value: `https://registry.${r}.aliyuncs.com` })),
  },
  credentialPattern: null,
};

/** Alibaba ROA signing: HMAC-SHA1 over method, content headers, date, x-acs-* headers and resource. */
export function signAcs(
  method: string,
  url: URL,
  headers: Record<string, string>,
  ak: string,
  sk: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  out.date ??= new Date().toUTCString();
  out['x-acs-signature-method'] = 'HMAC-SHA1';
  out['x-acs-signature-nonce'] = randomUUID();
  out['x-acs-signature-version'] = '1.0';
  out['x-acs-version'] = '2016-06-07';
  const acs = Object.keys(out)
    .filter((k) => k.startsWith('x-acs-'))
    .sort()
    .map((k) => `${k}:${out[k]}\n`)
    .join('');
  const query = [...url.searchParams.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => (v ? `${k}=${v}` : k))
    .join('&');
  const resource = query ? `${url.pathname}?${query}` : url.pathname;
  const toSign =
    [method, out.accept ?? '', out['content-md5'] ?? '', out['content-type'] ?? '', out.date].join('\n') +
    '\n' +
    acs +
    resource;
  out.authorization = `acs ${ak}:${createHmac('sha1', sk).update(toSign, 'utf8').digest('base64')}`;
  return out;
}

interface Envelope<T> {
  data: T;
}

export class AliAcrAdapter extends DockerRegistryAdapter {
  override readonly type: string = 'ali-acr';
  private readonly api: ProviderApi;
  private login: { credentials: BasicCredentials; expiresAt: number } | undefined;

  constructor(config: RemoteRegistryConfig, options: RemoteOptions = {}) {
    const url = normalizeUrl(config.url);
    const m = registryHost.exec(url);
    const late: { adapter?: AliAcrAdapter } = {};
    super({ ...config, url }, options, { credentials: (signal) => late.adapter!.loginCredentials(signal) });
    late.adapter = this;
    const ak = config.credential?.accessKey ?? '';
    const sk = config.credential?.accessSecret ?? '';
    this.api = new ProviderApi(
      this.http,
      m ? `https://cr.${m[1]}.aliyuncs.com` : url,
      async (call, u) => signAcs(call.method ?? 'GET', u, call.headers ?? {}, ak, sk),
      // The gateway refuses a bad key or signature with 400, not 401.
      (status, body) => status === 400 && /SignatureDoesNotMatch|InvalidAccessKeyId/.test(body),
    );
  }

  /** The temporary login from `/tokens` (valid one hour; refreshed after 50 minutes). */
  async loginCredentials(signal?: AbortSignal): Promise<BasicCredentials | undefined> {
    if (!this.config.credential?.accessKey) return undefined;
    if (!this.login || this.login.expiresAt < Date.now()) {
      const body = await this.api.get<
        Envelope<{ authorizationToken: string; tempUserName: string; expireDate?: number }>
      >({
        operation: 'get a temporary login',
        path: '/tokens',
        signal,
      });
      this.login = {
        credentials: { username: body.data.tempUserName, password: body.data.authorizationToken },
        expiresAt: Date.now() + 50 * 60_000,
      };
    }
    return this.login.credentials;
  }

  override async listNamespaces(options: ListOptions = {}): Promise<string[]> {
    const body = await this.api.get<Envelope<{ namespaces: { namespace: string }[] }>>({
      operation: 'list namespaces',
      path: '/namespace',
      signal: options.signal,
    });
    return body.data.namespaces.map((n) => n.namespace).sort();
  }

  override async listRepositories(options: RepositoryListOptions = {}): Promise<string[]> {
    const names: string[] = [];
    const path = options.namespace ? `/repos/${encodeURIComponent(options.namespace)}` : '/repos';
    for (let page = 1; page < 10_000; page++) {
      const body = await this.api.get<
        Envelope<{ repos: { repoName: string; repoNamespace: string }[]; total: number; pageSize: number }>
      >({
        operation: 'list repositories',
        path,
        query: { Page: page, PageSize: 100 },
        signal: options.signal,
      });
      names.push(...body.data.repos.map((r) => `${r.repoNamespace}/${r.repoName}`));
      if (page * 100 >= body.data.total || body.data.repos.length === 0) break;
    }
    return filterRepositories(names.sort(), options);
  }

  override async listArtifacts(repository: string, options: ListOptions = {}): Promise<RemoteArtifact[]> {
    return this.artifactsFromTags(repository, await this.listTags(repository, options), options);
  }
}
