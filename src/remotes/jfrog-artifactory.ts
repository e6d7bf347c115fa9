import type {
  ListOptions,
  RemoteArtifact,
  RemoteOptions,
  RemoteRegistryConfig,
  RepositoryListOptions,
} from './adapter.js';
import { basicHeader } from './auth.js';
import { DockerRegistryAdapter, filterRepositories } from './docker-registry.js';
import { ProviderApi } from './provider-api.js';

/**
 * `jfrog-artifactory`: JFrog Artifactory with the repository-path Docker access method, where an image
 * `<repoKey>/<image>` lives in the Docker repository `<repoKey>`. Docker repositories come from
 * `/artifactory/api/repositories`, images from each repository's `/api/docker/<key>/v2/_catalog`.
 * User and password (or API key / identity token as the password) authenticate both. Before a push a
 * missing local Docker repository is created.
 */

interface ArtifactoryRepo {
  key: string;
  type: string;
  packageType?: string;
}

export class JfrogArtifactoryAdapter extends DockerRegistryAdapter {
  override readonly type: string = 'jfrog-artifactory';
  private readonly api: ProviderApi;

  constructor(config: RemoteRegistryConfig, options: RemoteOptions = {}) {
    super(config, options);
    const c = config.credential;
    const auth = c?.accessKey ? basicHeader({ username: c.accessKey, password: c.accessSecret }) : undefined;
    this.api = new ProviderApi(this.http, `${this.url}/artifactory/api`, async () => ({
      authorization: auth,
    }));
  }

  override async listNamespaces(options: ListOptions = {}): Promise<string[]> {
    const repos = await this.api.get<ArtifactoryRepo[]>({
      operation: 'list Docker repositories',
      path: '/repositories',
      query: { packageType: 'docker' },
      signal: options.signal,
    });
    return repos
      .filter((r) => (r.packageType ?? 'docker').toLowerCase() === 'docker')
      .map((r) => r.key)
      .sort();
  }

  override async listRepositories(options: RepositoryListOptions = {}): Promise<string[]> {
    const keys = options.namespace ? [options.namespace] : await this.listNamespaces(options);
    const names: string[] = [];
    for (const key of keys) {
      const body = await this.api.get<{ repositories?: string[] }>({
        operation: `list images of ${key}`,
        path: `/docker/${encodeURIComponent(key)}/v2/_catalog`,
        signal: options.signal,
      });
      names.push(...(body.repositories ?? []).map((image) => `${key}/${image}`));
    }
    return filterRepositories(names.sort(), options);
  }

  override async listArtifacts(repository: string, options: ListOptions = {}): Promise<RemoteArtifact[]> {
    return this.artifactsFromTags(repository, await this.listTags(repository, options), options);
  }

  override async prepareForPush(repositories: string[], options: ListOptions = {}): Promise<void> {
    for (const key of new Set(repositories.map((r) => r.split('/')[0]!))) {
      const operation = `create Docker repository ${key}`;
      // Artifactory answers an unknown repository key with 400 (older) or 404.
      const there = await this.api.send({
        operation,
        path: `/repositories/${encodeURIComponent(key)}`,
        accept: [400, 404],
        signal: options.signal,
      });
      await there.body.dump();
      if (there.status === 200) continue;
      const made = await this.api.send({
        operation,
        method: 'PUT',
        path: `/repositories/${encodeURIComponent(key)}`,
        json: { key, rclass: 'local', packageType: 'docker', dockerApiVersion: 'V2' },
        signal: options.signal,
      });
      await made.body.dump();
    }
  }
}
