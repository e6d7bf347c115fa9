import type {
  ListOptions,
  RemoteArtifact,
  RemoteOptions,
  RemoteRegistryConfig,
  RepositoryListOptions,
} from './adapter.js';
import { fixedCredentials } from './auth.js';
import { DockerRegistryAdapter, filterRepositories, normalizeUrl } from './docker-registry.js';
import { ProviderApi } from './provider-api.js';

/**
 * `quay`: Quay.io or a Quay installation. As in Harbor, the secret is either a plain password, or a JSON
 * object `{"account_name", "docker_cli_password", "oauth2_token"}` holding the robot/user password for
 * the registry and an OAuth application token for the API. Namespaces (the user and its organizations)
 * and repositories come from `/api/v1`; before a push, missing repositories are created.
 */

interface QuaySecret {
  account_name?: string;
  docker_cli_password?: string;
  oauth2_token?: string;
}

export function parseQuaySecret(
  accessKey: string,
  secret: string,
): { username: string; password: string; token?: string } {
  if (secret.trim().startsWith('{')) {
    try {
      const s = JSON.parse(secret) as QuaySecret;
      return {
        username: s.account_name || accessKey,
        password: s.docker_cli_password ?? '',
        token: s.oauth2_token,
      };
    } catch {
      // not JSON after all: a password that starts with '{'
    }
  }
  return { username: accessKey, password: secret };
}

export class QuayAdapter extends DockerRegistryAdapter {
  override readonly type: string = 'quay';
  private readonly api: ProviderApi;

  constructor(config: RemoteRegistryConfig, options: RemoteOptions = {}) {
    const c = config.credential;
    const parsed = c ? parseQuaySecret(c.accessKey, c.accessSecret) : undefined;
    super({ ...config, url: normalizeUrl(config.url || 'https://quay.io') }, options, {
      credentials: fixedCredentials(
        parsed && parsed.username ? { username: parsed.username, password: parsed.password } : undefined,
      ),
    });
    const token = parsed?.token;
    this.api = new ProviderApi(this.http, `${this.url}/api/v1`, async () =>
      token ? { authorization: `Bearer ${token}` } : {},
    );
  }

  override async listNamespaces(options: ListOptions = {}): Promise<string[]> {
    const user = await this.api.get<{ username: string; organizations?: { name: string }[] }>({
      operation: 'list namespaces',
      path: '/user/',
      signal: options.signal,
    });
    return [user.username, ...(user.organizations ?? []).map((o) => o.name)].sort();
  }

  override async listRepositories(options: RepositoryListOptions = {}): Promise<string[]> {
    const namespaces = options.namespace ? [options.namespace] : await this.listNamespaces(options);
    const names: string[] = [];
    for (const ns of namespaces) {
      let next: string | undefined;
      do {
        const body = await this.api.get<{
          repositories: { namespace: string; name: string }[];
          next_page?: string;
        }>({
          operation: `list repositories of ${ns}`,
          path: '/repository',
          query: { namespace: ns, next_page: next },
          signal: options.signal,
        });
        names.push(...body.repositories.map((r) => `${r.namespace}/${r.name}`));
        next = body.next_page;
      } while (next);
    }
    return filterRepositories(names.sort(), options);
  }

  override async listArtifacts(repository: string, options: ListOptions = {}): Promise<RemoteArtifact[]> {
    return this.artifactsFromTags(repository, await this.listTags(repository, options), options);
  }

  override async prepareForPush(repositories: string[], options: ListOptions = {}): Promise<void> {
    for (const repo of new Set(repositories)) {
      const i = repo.indexOf('/');
      const [namespace, name] = i < 0 ? ['', repo] : [repo.slice(0, i), repo.slice(i + 1)];
      const operation = `create repository ${repo}`;
      const there = await this.api.send({
        operation,
        path: `/repository/${repo}`,
        accept: [404],
        signal: options.signal,
      });
      await there.body.dump();
      if (there.status !== 404) continue;
      const made = await this.api.send({
        operation,
        method: 'POST',
        path: '/repository',
        json: { namespace, repository: name, visibility: 'private', description: '', repo_kind: 'image' },
        signal: options.signal,
      });
      await made.body.dump();
    }
  }
}
