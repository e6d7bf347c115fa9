import type { MetaStore } from '../../db/store.js';
import type { ArtifactRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { Log } from '../../lib/logger.js';
import { digestOf, isDigestString, parseDigest } from '../../oci/digest.js';
import { parseManifest } from '../../oci/manifest.js';
import { assertTag } from '../../oci/names.js';
import { isRemoteError, type FetchedManifest } from '../../remotes/adapter.js';
import type { ByteRange, StorageDriver } from '../../storage/driver.js';
import { layout } from '../../storage/layout.js';
import { operatorName, type RequestContext } from '../context.js';
import type { EventBus } from '../events.js';
import type { BlobWriteGuard } from '../gc/blob-write-guard.js';
import type { BlobRead, BlobService } from '../registry/blob-service.js';
import type { ManifestInfo, ManifestService } from '../registry/manifest-service.js';
import type { BlobFetches } from './blob-fetches.js';
import { CachedArtifacts } from './cached-artifacts.js';
import { ProxyProjects, type ProxyTarget, type Upstream } from './proxy-projects.js';
import { staleable, upstreamError } from './upstream-errors.js';

/** What the proxy cache counts for /metrics. */
export interface ProxyMetrics {
  /** A cached manifest served because the upstream could not be asked. */
  staleServed(project: string, reason: string): void;
  /** An upstream download of a manifest or blob. */
  fetched(project: string, kind: 'manifest' | 'blob'): void;
}

type ServedManifest = ManifestInfo & { body: Buffer };

/**
 * The pull path of proxy-cache projects (docs/proxy-cache.md). A tag is checked at the upstream (HEAD) on
 * every pull and served at the upstream's digest, fetched when new; a digest is served from the cache when
 * present. When the upstream cannot be asked (unreachable, 429, 5xx, timeout) the cached tag is served
 * stale, within the project's `proxy_cache_stale_minutes`. Blobs come from the cache, or are streamed from
 * the upstream while they are cached (BlobFetches). Fetched manifests become artifacts through
 * CachedArtifacts as soon as their blobs are all cached.
 */
export class ProxyCache {
  readonly artifacts: CachedArtifacts;
  private readonly inflightManifests = new Map<string, Promise<FetchedManifest>>();

  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'repositories' | 'artifacts' | 'tags' | 'blobs' | 'proxyCache'>;
      storage: StorageDriver;
      projects: ProxyProjects;
      fetches: BlobFetches;
      manifests: Pick<ManifestService, 'get' | 'head'>;
      blobs: Pick<BlobService, 'open' | 'stat'>;
      writes: Pick<BlobWriteGuard, 'reserve'>;
      artifacts: CachedArtifacts;
      events: EventBus;
      clock: Clock;
      log: Log;
      metrics: ProxyMetrics;
    },
  ) {
    this.artifacts = deps.artifacts;
  }

  /** The proxy-cache project of a repository name; undefined for a normal project. */
  target(repository: string): Promise<ProxyTarget | undefined> {
    return this.deps.projects.of(repository);
  }

  /** Upstream type of the project, for Docker Hub's `library/` rule. */
  async upstreamType(target: ProxyTarget): Promise<string> {
    return (await this.deps.projects.upstream(target)).registry.type;
  }

  async manifest(
    ctx: RequestContext,
    target: ProxyTarget,
    repository: string,
    reference: string,
    accept: string[] | undefined,
    head: boolean,
  ): Promise<ManifestInfo & { body?: Buffer }> {
    const { store } = this.deps;
    const repo = await store.repositories.findByName(repository);
    const local = (ref: string) =>
      head
        ? this.deps.manifests.head(ctx, repository, ref, accept)
        : this.deps.manifests.get(ctx, repository, ref, accept);
    if (isDigestString(reference)) {
      parseDigest(reference);
      if (repo && (await store.artifacts.findByDigest(repo.id, reference))) return local(reference);
      return this.fetched(ctx, target, repository, reference, null, head);
    }
    assertTag(reference);
    const cached = repo ? await store.artifacts.findByTag(repo.id, reference) : undefined;
    const up = await this.deps.projects.upstream(target);
    const remoteRepo = ProxyProjects.remoteRepository(target, repository);
    let desc;
    try {
      desc = await up.remote.headManifest(remoteRepo, reference);
    } catch (err) {
      if (!cached || !staleable(err)) throw upstreamError(up, err, `${remoteRepo}:${reference}`, !cached);
      await this.assertFreshEnough(target, up, repository, reference, cached, err);
      this.deps.log.warn(
        { repository, tag: reference, upstream: up.registry.name, err: (err as Error).message },
        'proxy cache: upstream unavailable, serving the cached tag',
      );
      this.deps.metrics.staleServed(target.project.name, isRemoteError(err) ? err.reason : 'error');
      return local(reference);
    }
    if (!desc) {
      if (cached && target.localOnNotFound) return local(reference);
      throw new AppError(
        'MANIFEST_UNKNOWN',
        `manifest unknown: ${remoteRepo}:${reference} is not found at the upstream registry ${up.registry.name}`,
      );
    }
    const now = this.deps.clock.now().toISOString();
    await store.proxyCache.recordTagCheck(repository, reference, desc.digest, now);
    const atDigest = repo ? await store.artifacts.findByDigest(repo.id, desc.digest) : undefined;
    if (atDigest) {
      // The tag moved upstream to an artifact the cache holds already.
      if (cached?.id !== atDigest.id) await store.tags.put(repo!.id, reference, atDigest.id, now);
      return local(reference);
    }
    return this.fetched(ctx, target, repository, desc.digest, reference, head);
  }

  /** Refuses a stale tag older than the project allows, naming the upstream's answer. */
  private async assertFreshEnough(
    target: ProxyTarget,
    up: Upstream,
    repository: string,
    tag: string,
    cached: ArtifactRow,
    err: unknown,
  ): Promise<void> {
    if (target.staleMinutes === undefined) return;
    const check = await this.deps.store.proxyCache.tagCheck(repository, tag);
    const since = Date.parse(check?.checked_at ?? cached.push_time);
    const age = this.deps.clock.now().getTime() - since;
    if (age <= target.staleMinutes * 60_000) return;
    const remoteRepo = ProxyProjects.remoteRepository(target, repository);
    const cause = upstreamError(up, err, `${remoteRepo}:${tag}`, false);
    throw new AppError(
      cause.code,
      `${cause.message}; the cached copy was last confirmed ${Math.round(age / 60_000)} min ago, more than the ${target.staleMinutes} min project ${target.project.name} allows (proxy_cache_stale_minutes)`,
    );
  }

  /** A manifest by digest that is not an artifact (yet): from the cache's pending bytes, else the upstream. */
  private async fetched(
    ctx: RequestContext,
    target: ProxyTarget,
    repository: string,
    digest: string,
    tag: string | null,
    head: boolean,
  ): Promise<ServedManifest> {
    const pending = await this.deps.store.proxyCache.pending(repository, digest);
    let body = pending
      ? await this.deps.storage.getContent(layout.blob(digest)).catch(() => undefined)
      : undefined;
    if (!body) {
      const key = `${target.project.id}:${repository}@${digest}`;
      let fetching = this.inflightManifests.get(key);
      if (!fetching) {
        fetching = this.fetchManifest(target, repository, digest).finally(() =>
          this.inflightManifests.delete(key),
        );
        this.inflightManifests.set(key, fetching);
      }
      body = (await fetching).bytes;
    }
    const parsed = parseManifest(body, undefined);
    if (!pending || (tag && pending.tag !== tag))
      await this.deps.store.proxyCache.addPending({
        project_id: target.project.id,
        repository,
        digest,
        tag: tag ?? pending?.tag ?? null,
        operator: operatorName(ctx.actor) ?? '',
        fetched_at: this.deps.clock.now().toISOString(),
      });
    await this.artifacts.complete(ctx, target, repository, digest);
    // A pull like any other (audit, insights), though the artifact may not be recorded yet.
    if (!head)
      this.deps.events.emit('ArtifactPulled', {
        repository,
        digest,
        tag,
        size: body.length,
        actor: ctx.actor,
      });
    return { digest, mediaType: parsed.mediaType, size: body.length, body };
  }

  private async fetchManifest(target: ProxyTarget, repository: string, digest: string) {
    const up = await this.deps.projects.upstream(target);
    const remoteRepo = ProxyProjects.remoteRepository(target, repository);
    let fetched: FetchedManifest;
    try {
      fetched = await up.remote.getManifest(remoteRepo, digest);
    } catch (err) {
      throw upstreamError(up, err, `${remoteRepo}@${digest}`, true);
    }
    if (digestOf(fetched.bytes, parseDigest(digest).algorithm) !== digest)
      throw new AppError(
        'DIGEST_INVALID',
        `the upstream's manifest for ${remoteRepo}@${digest} has another digest`,
      );
    await this.deps.writes.reserve(digest, fetched.bytes.length, true);
    await this.deps.storage.putContent(layout.blob(digest), fetched.bytes);
    this.deps.metrics.fetched(target.project.name, 'manifest');
    return fetched;
  }

  async statBlob(
    ctx: RequestContext,
    target: ProxyTarget,
    repository: string,
    digest: string,
  ): Promise<{ digest: string; size: number }> {
    parseDigest(digest);
    if ((await this.deps.store.blobs.sizeInProject(target.project.id, digest)) !== undefined)
      return this.deps.blobs.stat(ctx, repository, digest);
    const up = await this.deps.projects.upstream(target);
    const remoteRepo = ProxyProjects.remoteRepository(target, repository);
    let size: number | null;
    try {
      size = await up.remote.headBlob(remoteRepo, digest);
    } catch (err) {
      throw upstreamError(up, err, `${remoteRepo}@${digest}`, true, 'BLOB_UNKNOWN');
    }
    if (size === null) throw new AppError('BLOB_UNKNOWN', `blob unknown to registry: ${digest}`, { digest });
    return { digest, size };
  }

  async openBlob(
    ctx: RequestContext,
    target: ProxyTarget,
    repository: string,
    digest: string,
    range?: ByteRange,
  ): Promise<BlobRead> {
    parseDigest(digest);
    if ((await this.deps.store.blobs.sizeInProject(target.project.id, digest)) !== undefined)
      return this.deps.blobs.open(ctx, repository, digest, range);
    const up = await this.deps.projects.upstream(target);
    const remoteRepo = ProxyProjects.remoteRepository(target, repository);
    const live = await this.deps.fetches.join(
      ctx,
      { project: target.project, repository, digest },
      async () => {
        try {
          const blob = await up.remote.getBlob(remoteRepo, digest);
          this.deps.metrics.fetched(target.project.name, 'blob');
          return blob;
        } catch (err) {
          throw upstreamError(up, err, `${remoteRepo}@${digest}`, true, 'BLOB_UNKNOWN');
        }
      },
      {
        ...(up.bucket ? { bucket: up.bucket } : {}),
        cached: () => this.artifacts.blobCached(ctx, target, repository),
        live: range === undefined,
      },
    );
    if (!live) return this.deps.blobs.open(ctx, repository, digest, range);
    return { digest, size: live.size, body: live.body };
  }
}
