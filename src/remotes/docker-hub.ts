import type {
  ListOptions,
  RegistryInfo,
  RemoteArtifact,
  RemoteOptions,
  RemoteRegistryConfig,
  RepositoryListOptions,
} from './adapter.js';
import { DockerRegistryAdapter, filterRepositories, normalizeUrl } from './docker-registry.js';
import { ProviderApi } from './provider-api.js';

/**
 * `docker-hub`: the Hub API (hub.docker.com) for namespaces, repositories, tags and tag deletion, after a
 * login that yields a JWT; content through registry-1.docker.io with its token service. Repository
 * names are exactly `<namespace>/<name>`.
 */

const hubApi = 'https://hub.docker.com';
const hubRegistry = 'https://registry-1.docker.io';

interface Page<T> {
  next?: string | null;
  results?: T[];
}

export class DockerHubAdapter extends DockerRegistryAdapter {
  override readonly type: string = 'docker-hub';
  private readonly api: ProviderApi;
  private jwt: { token: string; expiresAt: number } | undefined;

  constructor(config: RemoteRegistryConfig, options: RemoteOptions = {}) {
    const url = normalizeUrl(config.url || hubApi);
    // The real Hub serves its API and its registry on different hosts; a self-hosted stand-in (tests) on one.
    super({ ...config, url }, options, {
      registryUrl: new URL(url).host === 'hub.docker.com' ? hubRegistry : url,
    });
    this.api = new ProviderApi(this.http, url, async (call) =>
      call.path === '/v2/users/login' ? {} : this.authHeader(call.signal),
    );
  }

  override info(): RegistryInfo {
    return { ...super.info(), supportedCopyByChunk: false, supportedRepositoryPathComponentType: 'ONLY_TWO' };
  }

  /** Logs in to the Hub API (proves the credentials) and checks the registry answers. */
  override async ping(options: ListOptions = {}): Promise<void> {
    this.jwt = undefined;
    await this.authHeader(options.signal);
    await super.ping(options);
  }

  private async authHeader(signal?: AbortSignal): Promise<Record<string, string>> {
    const c = this.config.credential;
    if (!c || !c.accessKey) return {};
    if (!this.jwt || this.jwt.expiresAt < Date.now()) {
      const body = await this.api.get<{ token: string }>({
        operation: 'log in to Docker Hub',
        method: 'POST',
        path: '/v2/users/login',
        json: { username: c.accessKey, password: c.accessSecret },
        signal,
      });
      this.jwt = { token: body.token, expiresAt: Date.now() + 10 * 60_000 };
    }
    return { authorization: `Bearer ${this.jwt.token}` };
  }

  override async listNamespaces(options: ListOptions = {}): Promise<string[]> {
    const body = await this.api.get<{ namespaces: string[] }>({
      operation: 'list namespaces',
      path: '/v2/repositories/namespaces/',
      signal: options.signal,
    });
    return [...body.namespaces].sort();
  }

  override async listRepositories(options: RepositoryListOptions = {}): Promise<string[]> {
    const namespaces = options.namespace ? [options.namespace] : await this.listNamespaces(options);
    const names: string[] = [];
    for (const ns of namespaces) {
      const repos = await this.pages<{ name: string; namespace: string }>(
        `list repositories of ${ns}`,
        `/v2/repositories/${encodeURIComponent(ns)}/`,
        options,
      );
      names.push(...repos.map((r) => `${r.namespace}/${r.name}`));
    }
    return filterRepositories(names.sort(), options);
  }

  override async listTags(repository: string, options: ListOptions = {}): Promise<string[]> {
    const tags = await this.pages<{ name: string }>(
      `list tags of ${repository}`,
      `/v2/repositories/${repository}/tags/`,
      options,
    );
    return tags.map((t) => t.name).sort();
  }

  override async listArtifacts(repository: string, options: ListOptions = {}): Promise<RemoteArtifact[]> {
    return this.artifactsFromTags(repository, await this.listTags(repository, options), options);
  }

  /** The Hub deletes tags, not manifests. */
  override async deleteManifest(
    repository: string,
    reference: string,
    options: ListOptions = {},
  ): Promise<void> {
    const res = await this.api.send({
      operation: `delete tag ${repository}:${reference}`,
      method: 'DELETE',
      path: `/v2/repositories/${repository}/tags/${encodeURIComponent(reference)}/`,
      accept: [404],
      signal: options.signal,
    });
    await res.body.dump();
  }

  /** Creates missing organisations for the namespaces pushed to. */
  override async prepareForPush(repositories: string[], options: ListOptions = {}): Promise<void> {
    for (const ns of new Set(repositories.map((r) => r.split('/')[0]!))) {
      const operation = `create namespace ${ns}`;
      const res = await this.api.send({
        operation,
        path: `/v2/orgs/${encodeURIComponent(ns)}/`,
        accept: [404],
        signal: options.signal,
      });
      await res.body.dump();
      if (res.status !== 404) continue;
      const made = await this.api.send({
        operation,
        method: 'POST',
        path: '/v2/orgs/',
        json: { orgname: ns, full_name: ns, company: ns },
        signal: options.signal,
      });
      await made.body.dump();
    }
  }

  private async pages<T>(operation: string, path: string, options: ListOptions): Promise<T[]> {
    const out: T[] = [];
    for (let page = 1; page < 10_000; page++) {
      const body = await this.api.get<Page<T>>({
        operation,
        path,
        query: { page, page_size: 100 },
        signal: options.signal,
      });
      out.push(...(body.results ?? []));
      if (!body.next) break;
    }
    return out;
  }
}
