import type { Readable } from 'node:stream';
import type {
  BlobUploadOptions,
  FetchedBlob,
  FetchedManifest,
  Health,
  ListOptions,
  ManifestDescriptor,
  RegistryInfo,
  RemoteArtifact,
  RemoteOptions,
  RemoteReferrers,
  RemoteRegistry,
  RemoteRegistryConfig,
  RepositoryListOptions,
} from './adapter.js';
import { ChallengeAuthorizer, fixedCredentials, type Authorizer, type CredentialSource } from './auth.js';
import { DistributionClient } from './distribution-client.js';
import { RemoteHttp } from './http.js';
import { compareCodeUnits } from '../lib/code-unit-order.js';

/**
 * `docker-registry`: any OCI / Docker v2 registry (CNCF distribution, Berth, Zot, ...), anonymous, basic
 * or bearer-token authenticated. Repositories come from `/v2/_catalog`. Provider adapters extend this
 * class and replace the parts their API does differently (authentication, listing, namespaces).
 */

export interface AdapterParts {
  /** Where credentials for the v2 API come from (provider token exchanges); default: the config's. */
  credentials?: CredentialSource;
  /** A complete authorizer, when the provider's scheme is not challenge-driven. */
  authorizer?: (http: RemoteHttp, registryUrl: string) => Authorizer;
  /** Base URL of the v2 API when it differs from the configured URL. */
  registryUrl?: string;
}

export function normalizeUrl(url: string): string {
  const withScheme = /^https?:\/\//i.test(url) ? url : `https://${url}`;
  return withScheme.replace(/\/+$/, '');
}

export class DockerRegistryAdapter implements RemoteRegistry {
  readonly type: string = 'docker-registry';
  readonly name: string;
  readonly url: string;
  protected readonly http: RemoteHttp;
  protected readonly client: DistributionClient;

  constructor(
    protected readonly config: RemoteRegistryConfig,
    options: RemoteOptions = {},
    parts: AdapterParts = {},
  ) {
    this.url = normalizeUrl(config.url);
    this.name = config.name ?? this.url;
    this.http = new RemoteHttp(this.name, { insecure: config.insecure, ca: config.caCertificate }, options);
    const registryUrl = normalizeUrl(parts.registryUrl ?? this.url);
    const c = config.credential;
    const credentials =
      parts.credentials ??
      fixedCredentials(
        c && (c.accessKey || c.accessSecret)
          ? { username: c.accessKey, password: c.accessSecret }
          : undefined,
      );
    const authorizer =
      parts.authorizer?.(this.http, registryUrl) ??
      new ChallengeAuthorizer(this.http, registryUrl, credentials);
    this.client = new DistributionClient(this.http, registryUrl, authorizer);
  }

  info(): RegistryInfo {
    return {
      type: this.type,
      description: '',
      supportedResourceTypes: ['image'],
      supportedResourceFilters: [
        { type: 'name', style: 'input' },
        { type: 'tag', style: 'input' },
      ],
      supportedTriggers: ['manual', 'scheduled'],
      supportedRepositoryPathComponentType: '',
      supportedCopyByChunk: true,
    };
  }

  async ping(options: ListOptions = {}): Promise<void> {
    await this.client.ping(options);
  }

  async healthCheck(options: ListOptions = {}): Promise<Health> {
    try {
      await this.ping(options);
      return 'healthy';
    } catch {
      return 'unhealthy';
    }
  }

  async prepareForPush(_repositories: string[], _options: ListOptions = {}): Promise<void> {
    // A plain registry creates repositories on first push.
  }

  async listNamespaces(options: ListOptions = {}): Promise<string[]> {
    const repos = await this.listRepositories(options);
    return [...new Set(repos.filter((r) => r.includes('/')).map((r) => r.split('/')[0]!))].sort();
  }

  async listRepositories(options: RepositoryListOptions = {}): Promise<string[]> {
    const all = await this.client.catalog(options);
    return filterRepositories(all, options);
  }

  listReferrers(
    repository: string,
    digest: string,
    query: string,
    options?: ListOptions,
  ): Promise<RemoteReferrers | null> {
    return this.client.referrers(repository, digest, query, options);
  }

  listTags(repository: string, options: ListOptions = {}): Promise<string[]> {
    return this.client.tags(repository, options);
  }

  async listArtifacts(repository: string, options: ListOptions = {}): Promise<RemoteArtifact[]> {
    const tags = await this.listTags(repository, options);
    return this.artifactsFromTags(repository, tags, options);
  }

  /** Resolves tags to digests (HEAD, a few at a time) and groups them per artifact. */
  protected async artifactsFromTags(
    repository: string,
    tags: string[],
    options: ListOptions,
  ): Promise<RemoteArtifact[]> {
    const byDigest = new Map<string, RemoteArtifact>();
    await eachLimited(tags, 8, async (tag) => {
      const head = await this.client.headManifest(repository, tag, options);
      if (!head) return; // deleted while listing
      const found = byDigest.get(head.digest) ?? { digest: head.digest, mediaType: head.mediaType, tags: [] };
      found.tags.push(tag);
      byDigest.set(head.digest, found);
    });
    for (const a of byDigest.values()) a.tags.sort();
    return [...byDigest.values()].sort((a, b) => compareCodeUnits(a.digest, b.digest));
  }

  headManifest(
    repository: string,
    reference: string,
    options?: ListOptions,
  ): Promise<ManifestDescriptor | null> {
    return this.client.headManifest(repository, reference, options);
  }

  getManifest(repository: string, reference: string, options?: ListOptions): Promise<FetchedManifest> {
    return this.client.getManifest(repository, reference, options);
  }

  putManifest(
    repository: string,
    reference: string,
    mediaType: string,
    bytes: Buffer,
    options?: ListOptions,
  ): Promise<string> {
    return this.client.putManifest(repository, reference, mediaType, bytes, options);
  }

  deleteManifest(repository: string, reference: string, options?: ListOptions): Promise<void> {
    return this.client.deleteManifest(repository, reference, options);
  }

  headBlob(repository: string, digest: string, options?: ListOptions): Promise<number | null> {
    return this.client.headBlob(repository, digest, options);
  }

  getBlob(repository: string, digest: string, options?: ListOptions): Promise<FetchedBlob> {
    return this.client.getBlob(repository, digest, options);
  }

  putBlob(
    repository: string,
    digest: string,
    size: number,
    stream: Readable,
    options?: BlobUploadOptions,
  ): Promise<void> {
    return this.client.putBlob(repository, digest, size, stream, options);
  }

  mountBlob(from: string, digest: string, to: string, options?: ListOptions): Promise<boolean> {
    return this.client.mountBlob(from, digest, to, options);
  }

  /** Releases the connection pool. */
  async close(): Promise<void> {
    await this.http.close();
  }
}

export function filterRepositories(all: string[], options: RepositoryListOptions): string[] {
  return all
    .filter((r) => !options.namespace || r.startsWith(`${options.namespace}/`))
    .filter((r) => !options.match || options.match(r));
}

/** Runs fn over items with at most `limit` in flight; the first failure rejects. */
export async function eachLimited<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
