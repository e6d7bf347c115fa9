import type { Readable } from 'node:stream';
import type { MetaStore } from '../../db/store.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { Log } from '../../lib/logger.js';
import { splitRepositoryName } from '../../oci/names.js';
import type {
  BlobUploadOptions,
  FetchedBlob,
  FetchedManifest,
  Health,
  ListOptions,
  ManifestDescriptor,
  RegistryInfo,
  RemoteArtifact,
  RemoteRegistry,
  RepositoryListOptions,
} from '../../remotes/adapter.js';
import type { BlobService } from '../registry/blob-service.js';
import type { ManifestService } from '../registry/manifest-service.js';
import type { UploadSessions } from '../registry/upload-sessions.js';

export interface LocalRegistryDeps {
  store: Pick<MetaStore, 'artifacts' | 'labels' | 'projects' | 'repositories' | 'tags'>;
  manifests: ManifestService;
  blobs: BlobService;
  uploads: UploadSessions;
  clock: Clock;
  log: Log;
}

const missing = new Set(['NAME_UNKNOWN', 'MANIFEST_UNKNOWN', 'BLOB_UNKNOWN', 'NOT_FOUND']);
const isMissing = (err: unknown) => err instanceof AppError && missing.has(err.code);

/**
 * This Berth as one side of a replication, through its own services (no HTTP hop, no credentials): the
 * copy engine treats it like any remote. Pushes go through ManifestService, so they are validated,
 * recorded and emit ArtifactPushed like a client's push.
 */
export class LocalRegistry implements RemoteRegistry {
  readonly type = 'berth-local';
  readonly name = 'this Berth';

  constructor(private readonly d: LocalRegistryDeps) {}

  private ctx(options?: ListOptions) {
    return { log: this.d.log, signal: options?.signal };
  }

  info(): RegistryInfo {
    return {
      type: this.type,
      description: 'the local registry',
      supportedResourceTypes: ['image', 'artifact'],
      supportedResourceFilters: [
        { type: 'name', style: 'input' },
        { type: 'tag', style: 'input' },
        { type: 'label', style: 'list' },
      ],
      supportedTriggers: ['manual', 'scheduled', 'event_based'],
      supportedRepositoryPathComponentType: '',
      supportedCopyByChunk: false,
    };
  }

  async ping(): Promise<void> {}

  async healthCheck(): Promise<Health> {
    return 'healthy';
  }

  /** Pull-based replication may target a project that does not exist yet: create it (private). */
  async prepareForPush(repositories: string[]): Promise<void> {
    const now = this.d.clock.now().toISOString();
    for (const name of new Set(repositories.map((r) => splitRepositoryName(r).project))) {
      await this.d.store.projects.ensure(name, now);
    }
  }

  async listNamespaces(): Promise<string[]> {
    const repos = await this.listRepositories();
    return [...new Set(repos.map((r) => splitRepositoryName(r).project))].sort();
  }

  async listRepositories(options: RepositoryListOptions = {}): Promise<string[]> {
    const out: string[] = [];
    let last: string | undefined;
    for (;;) {
      const page = await this.d.store.repositories.listNames(last, 1000);
      out.push(...page.filter((r) => (options.match ? options.match(r) : true)));
      if (page.length < 1000) return out;
      last = page.at(-1);
    }
  }

  async listTags(repository: string): Promise<string[]> {
    const repo = await this.d.store.repositories.findByName(repository);
    if (!repo) return [];
    const out: string[] = [];
    let last: string | undefined;
    for (;;) {
      const page = await this.d.store.tags.listNames(repo.id, last, 1000);
      out.push(...page);
      if (page.length < 1000) return out;
      last = page.at(-1);
    }
  }

  async listArtifacts(repository: string): Promise<RemoteArtifact[]> {
    const repo = await this.d.store.repositories.findByName(repository);
    if (!repo) return [];
    const byDigest = new Map<string, RemoteArtifact & { id: number }>();
    for (const tag of await this.listTags(repository)) {
      const a = await this.d.store.artifacts.findByTag(repo.id, tag);
      if (!a) continue;
      const entry = byDigest.get(a.digest) ?? {
        id: a.id,
        digest: a.digest,
        mediaType: a.media_type,
        tags: [],
      };
      entry.tags.push(tag);
      byDigest.set(a.digest, entry);
    }
    // Labels attached through the API, for the policy's label filter.
    const labels = await this.d.store.labels.ofArtifacts([...byDigest.values()].map((a) => a.id));
    return [...byDigest.values()].map(({ id, ...a }) => ({
      ...a,
      labels: (labels.get(id) ?? []).map((l) => l.name),
    }));
  }

  async headManifest(
    repository: string,
    reference: string,
    options?: ListOptions,
  ): Promise<ManifestDescriptor | null> {
    try {
      return await this.d.manifests.head(this.ctx(options), repository, reference);
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async getManifest(repository: string, reference: string, options?: ListOptions): Promise<FetchedManifest> {
    const m = await this.d.manifests.get(this.ctx(options), repository, reference);
    return { digest: m.digest, mediaType: m.mediaType, size: m.size, bytes: m.body };
  }

  async putManifest(
    repository: string,
    reference: string,
    mediaType: string,
    bytes: Buffer,
    options?: ListOptions,
  ): Promise<string> {
    const pushed = await this.d.manifests.put(this.ctx(options), repository, reference, bytes, mediaType);
    return pushed.digest;
  }

  async deleteManifest(repository: string, reference: string, options?: ListOptions): Promise<void> {
    await this.d.manifests.delete(this.ctx(options), repository, reference);
  }

  async headBlob(repository: string, digest: string, options?: ListOptions): Promise<number | null> {
    try {
      return (await this.d.blobs.stat(this.ctx(options), repository, digest)).size;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async getBlob(repository: string, digest: string, options?: ListOptions): Promise<FetchedBlob> {
    const read = await this.d.blobs.open(this.ctx(options), repository, digest);
    return { size: read.size, stream: read.body };
  }

  async putBlob(
    repository: string,
    digest: string,
    size: number,
    stream: Readable,
    options?: BlobUploadOptions,
  ): Promise<void> {
    await this.d.uploads.putMonolithic(
      this.ctx(options),
      repository,
      digest,
      stream,
      size >= 0 ? size : undefined,
    );
  }

  async mountBlob(from: string, digest: string, to: string, options?: ListOptions): Promise<boolean> {
    const ctx = this.ctx(options);
    const res = await this.d.uploads.mount(ctx, to, digest, from);
    if (res.mounted) return true;
    await this.d.uploads.cancel(ctx, to, res.upload.id);
    return false;
  }

  async close(): Promise<void> {}
}
