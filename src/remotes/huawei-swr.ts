import { createHash, createHmac } from 'node:crypto';
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
import type { RemoteHttp } from './http.js';
import { ProviderApi } from './provider-api.js';

/**
 * `huawei-SWR`: Huawei Cloud SoftWare Repository for Container. The access key (AK) and secret key (SK)
 * sign SWR API calls (Huawei's SDK-HMAC-SHA256 scheme); the API lists namespaces and repositories,
 * creates namespaces before a push, and issues a temporary docker login (`/v2/manage/utils/secret`)
 * that the registry accepts as basic credentials.
 */

const swrHost = /^https:\/\/swr\.([\w-]+)\.myhuaweicloud\.com/;

export const swrPattern: AdapterPattern = {
  endpointPattern: {
    endpointType: 'EndpointPatternTypeList',
    endpoints: [
      'cn-north-1',
      'cn-north-4',
      'cn-east-2',
      'cn-east-3',
      'cn-south-1',
      'cn-southwest-2',
      'ap-southeast-1',
      'ap-southeast-2',
      'ap-southeast-3',
      'af-south-1',
    ].map((r) => ({ key: r, value: `https://swr.${r}.myhuaweicloud.com` })),
  },
  credentialPattern: null,
};

const hex = (d: string) => createHash('sha256').update(d, 'utf8').digest('hex');

/** Huawei APIG signing: like SigV4 with the SK as the key directly and a trailing '/' on the path. */
export function signSdkHmac(
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: string,
  ak: string,
  sk: string,
  date = new Date(),
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  out.host = url.host;
  out['x-sdk-date'] = date.toISOString().replace(/[:-]|\.\d{3}/g, '');
  const names = Object.keys(out).sort();
  const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  const query = [...url.searchParams.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  const canonical = [
    method,
    path,
    query,
    names.map((n) => `${n}:${out[n]!.trim()}\n`).join(''),
    names.join(';'),
    hex(body),
  ].join('\n');
  const toSign = `SDK-HMAC-SHA256\n${out['x-sdk-date']}\n${hex(canonical)}`;
  const signature = createHmac('sha256', sk).update(toSign).digest('hex');
  out.authorization = `SDK-HMAC-SHA256 Access=${ak}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  return out;
}

export class HuaweiSwrAdapter extends DockerRegistryAdapter {
  override readonly type: string = 'huawei-SWR';
  private readonly api: ProviderApi;
  private readonly region: string;

  constructor(config: RemoteRegistryConfig, options: RemoteOptions = {}) {
    const url = normalizeUrl(config.url);
    const m = swrHost.exec(url);
    const region = m?.[1] ?? 'cn-north-4';
    const late: { adapter?: HuaweiSwrAdapter } = {};
    super({ ...config, url }, options, { credentials: (signal) => late.adapter!.loginCredentials(signal) });
    late.adapter = this;
    this.region = region;
    const ak = config.credential?.accessKey ?? '';
    const sk = config.credential?.accessSecret ?? '';
    this.api = new ProviderApi(
      this.http,
      m ? `https://swr-api.${region}.myhuaweicloud.com` : url,
      async (call, u) => signSdkHmac(call.method ?? 'GET', u, call.headers ?? {}, call.body ?? '', ak, sk),
    );
  }

  private login: { credentials: BasicCredentials; expiresAt: number } | undefined;

  /** A temporary docker login from the API (valid 24 h; refreshed after 12). */
  async loginCredentials(signal?: AbortSignal): Promise<BasicCredentials | undefined> {
    if (!this.config.credential?.accessKey) return undefined;
    if (!this.login || this.login.expiresAt < Date.now()) {
      const body = await this.api.get<{ auths: Record<string, { auth: string }> }>({
        operation: 'get a temporary docker login',
        method: 'POST',
        path: '/v2/manage/utils/secret',
        query: { projectname: this.region },
        signal,
      });
      const entry = Object.values(body.auths)[0];
      const text = entry ? Buffer.from(entry.auth, 'base64').toString() : '';
      const i = text.indexOf(':');
      if (i < 0)
        throw (this.http as RemoteHttp).error(
          'get a temporary docker login',
          'invalid',
          'SWR answered without a login',
        );
      this.login = {
        credentials: { username: text.slice(0, i), password: text.slice(i + 1) },
        expiresAt: Date.now() + 12 * 3600_000,
      };
    }
    return this.login.credentials;
  }

  override async listNamespaces(options: ListOptions = {}): Promise<string[]> {
    const body = await this.api.get<{ namespaces: { name: string }[] }>({
      operation: 'list namespaces',
      path: '/v2/manage/namespaces',
      signal: options.signal,
    });
    return body.namespaces.map((n) => n.name).sort();
  }

  override async listRepositories(options: RepositoryListOptions = {}): Promise<string[]> {
    const names: string[] = [];
    for (let offset = 0; offset < 1_000_000; offset += 100) {
      const page = await this.api.get<{ name: string; namespace: string }[]>({
        operation: 'list repositories',
        path: '/v2/manage/repos',
        query: { namespace: options.namespace, limit: 100, offset },
        signal: options.signal,
      });
      names.push(...page.map((r) => `${r.namespace}/${r.name}`));
      if (page.length < 100) break;
    }
    return filterRepositories(names.sort(), options);
  }

  override async listArtifacts(repository: string, options: ListOptions = {}): Promise<RemoteArtifact[]> {
    return this.artifactsFromTags(repository, await this.listTags(repository, options), options);
  }

  override async prepareForPush(repositories: string[], options: ListOptions = {}): Promise<void> {
    const existing = new Set(await this.listNamespaces(options));
    for (const ns of new Set(repositories.map((r) => r.split('/')[0]!))) {
      if (existing.has(ns)) continue;
      const res = await this.api.send({
        operation: `create namespace ${ns}`,
        method: 'POST',
        path: '/v2/manage/namespaces',
        json: { namespace: ns },
        accept: [409],
        signal: options.signal,
      });
      await res.body.dump();
    }
  }
}
