import type {
  ListOptions,
  RemoteArtifact,
  RemoteOptions,
  RemoteRegistryConfig,
  RepositoryListOptions,
} from './adapter.js';
import { DockerRegistryAdapter, filterRepositories, normalizeUrl } from './docker-registry.js';
import { ProviderApi } from './provider-api.js';

/**
 * `github-ghcr`: GitHub's container registry. A personal access token is the password for ghcr.io's
 * token exchange; ghcr.io has no catalog, so repositories are the caller's container packages from the
 * GitHub REST API (`/user/packages?package_type=container`), named `<owner>/<package>`.
 */

const ghcr = 'https://ghcr.io';
const githubApi = 'https://api.github.com';

interface Package {
  name: string;
  owner: { login: string };
}

export class GithubGhcrAdapter extends DockerRegistryAdapter {
  override readonly type: string = 'github-ghcr';
  private readonly api: ProviderApi;

  constructor(config: RemoteRegistryConfig, options: RemoteOptions = {}) {
    const url = normalizeUrl(config.url || ghcr);
    super({ ...config, url }, options);
    const apiUrl = new URL(url).host === 'ghcr.io' ? githubApi : url;
    const token = config.credential?.accessSecret;
    this.api = new ProviderApi(this.http, apiUrl, async () => ({
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
    }));
  }

  override async listRepositories(options: RepositoryListOptions = {}): Promise<string[]> {
    const names: string[] = [];
    for (let page = 1; page < 1000; page++) {
      const body = await this.api.get<Package[]>({
        operation: 'list container packages',
        path: '/user/packages',
        query: { package_type: 'container', per_page: 100, page },
        signal: options.signal,
      });
      names.push(...body.map((p) => `${p.owner.login}/${p.name}`.toLowerCase()));
      if (body.length < 100) break;
    }
    return filterRepositories(names.sort(), options);
  }

  override async listArtifacts(repository: string, options: ListOptions = {}): Promise<RemoteArtifact[]> {
    return this.artifactsFromTags(repository, await this.listTags(repository, options), options);
  }
}
