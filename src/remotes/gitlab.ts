import type {
  ListOptions,
  RemoteArtifact,
  RemoteOptions,
  RemoteRegistryConfig,
  RepositoryListOptions,
} from './adapter.js';
import { DockerRegistryAdapter, filterRepositories, normalizeUrl } from './docker-registry.js';
import type { HttpResponse } from './http.js';
import { ProviderApi } from './provider-api.js';

/**
 * `gitlab`: a GitLab instance's container registry. The personal access token is the password at the
 * registry's `/jwt/auth` token exchange, and the `PRIVATE-TOKEN` for the REST API, which lists the
 * member projects and their registry repositories (GitLab's registry serves no catalog). The registry
 * of gitlab.com lives at registry.gitlab.com; a self-managed instance's is taken from the configured URL.
 */

interface Project {
  id: number;
  path_with_namespace: string;
}
interface RegistryRepository {
  id: number;
  path: string;
}

export class GitlabAdapter extends DockerRegistryAdapter {
  override readonly type: string = 'gitlab';
  private readonly api: ProviderApi;

  constructor(config: RemoteRegistryConfig, options: RemoteOptions = {}) {
    const url = normalizeUrl(config.url || 'https://gitlab.com');
    super({ ...config, url }, options, {
      registryUrl: new URL(url).host === 'gitlab.com' ? 'https://registry.gitlab.com' : url,
    });
    const token = config.credential?.accessSecret;
    this.api = new ProviderApi(this.http, `${url}/api/v4`, async () =>
      token ? { 'private-token': token } : {},
    );
  }

  override async listRepositories(options: RepositoryListOptions = {}): Promise<string[]> {
    const projects = await this.pages<Project>(
      'list projects',
      '/projects',
      { membership: 'true', simple: 'true' },
      options,
    );
    const names: string[] = [];
    for (const p of projects) {
      if (options.namespace && !p.path_with_namespace.startsWith(`${options.namespace}/`)) continue;
      const repos = await this.pages<RegistryRepository>(
        `list registry repositories of ${p.path_with_namespace}`,
        `/projects/${p.id}/registry/repositories`,
        {},
        options,
      );
      names.push(...repos.map((r) => r.path));
    }
    return filterRepositories([...new Set(names)].sort(), options);
  }

  override async listArtifacts(repository: string, options: ListOptions = {}): Promise<RemoteArtifact[]> {
    return this.artifactsFromTags(repository, await this.listTags(repository, options), options);
  }

  /** GitLab pages with `page`/`per_page` and announces the next page in `X-Next-Page`. */
  private async pages<T>(
    operation: string,
    path: string,
    query: Record<string, string>,
    options: ListOptions,
  ): Promise<T[]> {
    const out: T[] = [];
    let page: string | undefined = '1';
    while (page) {
      const { body, res }: { body: T[] | undefined; res: HttpResponse } = await this.api.json<T[]>({
        operation,
        path,
        query: { ...query, per_page: 100, page },
        signal: options.signal,
      });
      out.push(...(body ?? []));
      page = res.headers['x-next-page'] || undefined;
    }
    return out;
  }
}
