import type {
  ListOptions,
  RegistryInfo,
  RemoteArtifact,
  RemoteOptions,
  RemoteRegistryConfig,
  RepositoryListOptions,
} from './adapter.js';
import { basicHeader } from './auth.js';
import { DockerRegistryAdapter, filterRepositories } from './docker-registry.js';
import { ProviderApi } from './provider-api.js';

/**
 * `harbor`: a Harbor, or another Berth. Projects, repositories and artifacts (with tags and labels)
 * come from its `/api/v2.0`; content moves through its `/v2` like any registry. Before a push the
 * destination projects are created when missing. Repository names inside a project are sent
 * double-encoded (`a/b` → `a%252Fb`), as Harbor's API requires.
 */

interface Project {
  name: string;
}
interface Repository {
  name: string;
}
interface Artifact {
  digest: string;
  media_type?: string;
  manifest_media_type?: string;
  tags?: { name: string }[] | null;
  labels?: { name: string }[] | null;
}

const pageSize = 100;

export class HarborAdapter extends DockerRegistryAdapter {
  override readonly type: string = 'harbor';
  protected readonly api: ProviderApi;

  constructor(config: RemoteRegistryConfig, options: RemoteOptions = {}) {
    super(config, options);
    const c = config.credential;
    const auth: Record<string, string> =
      c && c.accessKey
        ? { authorization: basicHeader({ username: c.accessKey, password: c.accessSecret }) }
        : {};
    this.api = new ProviderApi(this.http, `${this.url}/api/v2.0`, async () => auth);
  }

  override info(): RegistryInfo {
    return {
      ...super.info(),
      supportedResourceTypes: ['image', 'artifact'],
      supportedResourceFilters: [
        { type: 'name', style: 'input' },
        { type: 'tag', style: 'input' },
        { type: 'label', style: 'list' },
      ],
      supportedTriggers: ['manual', 'scheduled', 'event_based'],
    };
  }

  override async listNamespaces(options: ListOptions = {}): Promise<string[]> {
    const projects = await this.pages<Project>('list projects', '/projects', {}, options);
    return projects.map((p) => p.name).sort();
  }

  override async listRepositories(options: RepositoryListOptions = {}): Promise<string[]> {
    const projects = options.namespace ? [options.namespace] : await this.listNamespaces(options);
    const names: string[] = [];
    for (const p of projects) {
      const repos = await this.pages<Repository>(
        `list repositories of project ${p}`,
        `/projects/${enc(p)}/repositories`,
        {},
        options,
      );
      names.push(...repos.map((r) => r.name));
    }
    return filterRepositories(names.sort(), options);
  }

  override async listArtifacts(repository: string, options: ListOptions = {}): Promise<RemoteArtifact[]> {
    const { project, rest } = split(repository);
    const artifacts = await this.pages<Artifact>(
      `list artifacts of ${repository}`,
      `/projects/${enc(project)}/repositories/${enc(enc(rest))}/artifacts`,
      { with_tag: 'true', with_label: 'true' },
      options,
    );
    return artifacts.map((a) => ({
      digest: a.digest,
      mediaType: a.manifest_media_type ?? a.media_type,
      tags: (a.tags ?? []).map((t) => t.name).sort(),
      labels: (a.labels ?? []).map((l) => l.name),
    }));
  }

  /** Creates each missing destination project (private), as Harbor's adapter does. */
  override async prepareForPush(repositories: string[], options: ListOptions = {}): Promise<void> {
    const projects = [...new Set(repositories.map((r) => split(r).project))];
    for (const name of projects) {
      const operation = `create project ${name}`;
      const head = await this.api.send({
        operation,
        method: 'HEAD',
        path: '/projects',
        query: { project_name: name },
        accept: [404],
        signal: options.signal,
      });
      await head.body.dump();
      if (head.status === 200) continue;
      const res = await this.api.send({
        operation,
        method: 'POST',
        path: '/projects',
        json: { project_name: name, metadata: { public: 'false' } },
        accept: [409],
        signal: options.signal,
      });
      await res.body.dump();
    }
  }

  /** Follows Harbor's paging (`page`, `page_size`, `Link: rel="next"`). */
  private async pages<T>(
    operation: string,
    path: string,
    query: Record<string, string>,
    options: ListOptions,
  ): Promise<T[]> {
    const out: T[] = [];
    for (let page = 1; page < 10_000; page++) {
      const { body, res } = await this.api.json<T[]>({
        operation,
        path,
        query: { ...query, page, page_size: pageSize },
        signal: options.signal,
      });
      out.push(...(body ?? []));
      const more = /rel="?next"?/.test(res.headers.link ?? '') || (body?.length ?? 0) === pageSize;
      if (!more || (body?.length ?? 0) === 0) break;
    }
    return out;
  }
}

function split(repository: string): { project: string; rest: string } {
  const i = repository.indexOf('/');
  if (i < 0) return { project: repository, rest: '' };
  return { project: repository.slice(0, i), rest: repository.slice(i + 1) };
}

const enc = encodeURIComponent;
