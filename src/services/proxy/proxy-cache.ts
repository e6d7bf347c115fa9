import { createHash } from 'node:crypto';
import type { MetaStore } from '../../db/store.js';
import type { ArtifactRow } from '../../db/tables.js';
import type { JobQueue } from '../../jobs/queue.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { Log } from '../../lib/logger.js';
import { digestOf, isDigestString, parseDigest } from '../../oci/digest.js';
import { parseManifest } from '../../oci/manifest.js';
import { assertTag } from '../../oci/names.js';
import { isRemoteError, type FetchedManifest, type RemoteRegistry } from '../../remotes/adapter.js';
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
import { filteredOut } from './repository-filter.js';
import { staleable, upstreamError } from './upstream-errors.js';
import type { UpstreamSlots } from './upstream-slots.js';

/** What the proxy cache counts for /metrics. */
export interface ProxyMetrics {
  /** A cached manifest served because the upstream could not be asked. */
  staleServed(project: string, reason: string): void;
  /** An upstream download of a manifest or blob. */
  fetched(project: string, kind: 'manifest' | 'blob'): void;
}

type ServedManifest = ManifestInfo & { body: Buffer };

/**
 * How long the upstream's last referrers page is served when the upstream cannot be asked (Harbor's 7 days).
 * Kept in the database (`proxy_referrer_page`), as Harbor keeps it in Redis: every process and node of a
 * cluster serves the latest page any of them got.
 */
const referrerPageMs = 7 * 24 * 3600_000;

/** The most cached tags a proxy project's tag list merges with the upstream's. */
const maxListedTags = 100_000;

/** A referrers page asked of the upstream: the index's bytes and the headers to send with it. */
export interface ProxiedReferrers {
  body: Buffer;
  headers: Record<string, string>;
}

/** The upstream's paging link, made relative and pointing at the proxy project's repository. */
function localLink(link: string, remoteRepo: string, repository: string): string {
  return link.replace(/<([^>]*)>/g, (_all, url: string) => {
    const u = new URL(url, 'http://upstream.invalid');
    const prefix = `/v2/${remoteRepo}/referrers/`;
    if (!u.pathname.startsWith(prefix)) return `<${url}>`;
    return `</v2/${repository}/referrers/${u.pathname.slice(prefix.length)}${u.search}>`;
  });
}

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
  private readonly inflightChecks = new Map<string, ReturnType<RemoteRegistry['headManifest']>>();

  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'repositories' | 'artifacts' | 'tags' | 'blobs' | 'proxyCache'>;
      storage: StorageDriver;
      projects: ProxyProjects;
      fetches: BlobFetches;
      /** Downloads open at each project's upstream, for `max_upstream_conn`. */
      slots: UpstreamSlots;
      manifests: Pick<ManifestService, 'get' | 'head' | 'referrers'>;
      blobs: Pick<BlobService, 'open' | 'stat'>;
      writes: Pick<BlobWriteGuard, 'reserve'>;
      artifacts: CachedArtifacts;
      events: EventBus;
      clock: Clock;
      log: Log;
      metrics: ProxyMetrics;
      queue: Pick<JobQueue, 'add'>;
      /** How long a fetched manifest waits for clients to pull its blobs before `proxy.complete` does. */
      completeAfterMs: number;
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
    this.assertAllowed(target, repository);
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
    if (cached && (await this.recentlyChecked(target, repository, reference, cached.digest)))
      return local(reference);
    const up = await this.deps.projects.upstream(target);
    const remoteRepo = ProxyProjects.remoteRepository(target, repository);
    let desc;
    try {
      desc = await this.checkTag(target, up, remoteRepo, reference);
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

  /**
   * Harbor's repository filter (`proxy_cache_filter_pattern`): a repository outside it is 404 for manifests,
   * blobs and referrers alike, cached or not (a client knowing a digest cannot get round it).
   */
  private assertAllowed(target: ProxyTarget, repository: string): void {
    if (!target.filter) return;
    const remoteRepo = ProxyProjects.remoteRepository(target, repository);
    if (!target.filter(remoteRepo)) throw filteredOut(remoteRepo);
  }

  /**
   * The referrers API of a proxy project with Harbor's `proxy_referrer_api` on: the upstream's page, with
   * its paging links pointing here, and on the last page the referrers only the cache holds (Harbor adds
   * its local accessories there). The upstream's 404 is the answer; when the upstream cannot be asked, the
   * last page it gave any process for the same request is served (kept 7 days, in the database), else
   * undefined: the cache answers, as it does when the setting is off.
   */
  async referrers(
    ctx: RequestContext,
    target: ProxyTarget,
    repository: string,
    digest: string,
    query: URLSearchParams,
  ): Promise<ProxiedReferrers | undefined> {
    if (!target.referrerApi) return undefined;
    this.assertAllowed(target, repository);
    parseDigest(digest);
    const up = await this.deps.projects.upstream(target);
    const remoteRepo = ProxyProjects.remoteRepository(target, repository);
    const key = createHash('sha256')
      .update(`${target.project.id}:${repository}@${digest}?${query.toString()}`)
      .digest('hex');
    const now = this.deps.clock.now().getTime();
    const since = new Date(now - referrerPageMs).toISOString();
    let page;
    try {
      if (!up.remote.listReferrers) return undefined;
      page = await up.remote.listReferrers(remoteRepo, digest, query.toString());
    } catch (err) {
      const kept = await this.deps.store.proxyCache.referrerPage(key, since);
      this.deps.log.warn(
        { repository, digest, upstream: up.registry.name, err: (err as Error).message, cached: !!kept },
        'proxy cache: the upstream did not list referrers; answering from the cache',
      );
      return kept && { body: Buffer.from(kept.body), headers: kept.headers };
    }
    if (!page)
      throw new AppError(
        'NOT_FOUND',
        `referrers of ${remoteRepo}@${digest} are not found at the upstream registry ${up.registry.name}`,
      );
    const headers: Record<string, string> = {};
    if (page.headers['oci-filters-applied'])
      headers['oci-filters-applied'] = page.headers['oci-filters-applied'];
    const link = page.headers.link;
    if (link) headers.link = localLink(link, remoteRepo, repository);
    const manifests = [...page.manifests];
    let added = 0;
    if (!link || !/rel="?next"?/.test(link)) {
      const seen = new Set(manifests.map((m) => m.digest));
      const local = await this.deps.manifests
        .referrers(ctx, repository, digest, query.get('artifactType') || undefined)
        .catch(() => undefined);
      for (const m of (local?.index as { manifests?: Array<Record<string, unknown>> } | undefined)
        ?.manifests ?? [])
        if (!seen.has(m.digest)) {
          manifests.push(m);
          added++;
        }
    }
    const total = Number(page.headers['x-total-count']);
    headers['x-total-count'] = String((Number.isInteger(total) ? total : manifests.length - added) + added);
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests,
    });
    await this.deps.store.proxyCache.keepReferrerPage(
      { key, projectId: target.project.id, body, headers, now: new Date(now).toISOString() },
      since,
    );
    return { body: Buffer.from(body), headers };
  }

  /**
   * `/v2/<p>/<repo>/tags/list` of a proxy project, as Harbor's TagsListMiddleware: a repository outside the
   * filter is 404 (the upstream not asked); else the cached tags and the upstream's, merged (sorted, each
   * once) and paged by `n`/`last`. When the upstream cannot list them, the cached tags alone (logged).
   */
  async listTags(
    ctx: RequestContext,
    target: ProxyTarget,
    repository: string,
    n: number,
    last?: string,
  ): Promise<{ name: string; tags: string[]; more: boolean }> {
    this.assertAllowed(target, repository);
    if (n === 0) return { name: repository, tags: [], more: false };
    const { store } = this.deps;
    const repo = await store.repositories.findByName(repository);
    const names = new Set(repo ? await store.tags.listNames(repo.id, undefined, maxListedTags) : []);
    const remoteRepo = ProxyProjects.remoteRepository(target, repository);
    try {
      const up = await this.deps.projects.upstream(target);
      for (const tag of await up.remote.listTags(remoteRepo)) names.add(tag);
    } catch (err) {
      ctx.log.warn(
        { repository, err: (err as Error).message },
        'proxy cache: the upstream did not list tags; answering with the cached ones',
      );
    }
    const sorted = [...names].sort();
    const from = last === undefined ? sorted : sorted.filter((t) => t > last);
    return { name: repository, tags: from.slice(0, n), more: from.length > n };
  }

  /** Asks the upstream which digest a tag names; clients asking at once share one request. */
  private checkTag(target: ProxyTarget, up: Upstream, remoteRepo: string, tag: string) {
    const key = `${target.project.id}:${remoteRepo}:${tag}`;
    let check = this.inflightChecks.get(key);
    if (!check) {
      check = up.remote.headManifest(remoteRepo, tag).finally(() => this.inflightChecks.delete(key));
      this.inflightChecks.set(key, check);
    }
    return check;
  }

  /**
   * True when the upstream named this digest for the tag within the project's `proxy_cache_check_seconds`:
   * the pull is served from the cache without asking again (Harbor asks on every pull, and its users meet
   * the upstream's rate limits for it: goharbor/harbor#18752, #21859).
   */
  private async recentlyChecked(
    target: ProxyTarget,
    repository: string,
    tag: string,
    digest: string,
  ): Promise<boolean> {
    if (target.checkSeconds <= 0) return false;
    const check = await this.deps.store.proxyCache.tagCheck(repository, tag);
    if (!check || check.digest !== digest) return false;
    const age = this.deps.clock.now().getTime() - Date.parse(check.checked_at);
    return age >= 0 && age < target.checkSeconds * 1000;
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
    const now = this.deps.clock.now();
    if (!pending || (tag && pending.tag !== tag))
      await this.deps.store.proxyCache.addPending({
        project_id: target.project.id,
        repository,
        digest,
        tag: tag ?? pending?.tag ?? null,
        operator: operatorName(ctx.actor) ?? '',
        fetched_at: now.toISOString(),
      });
    const recorded = await this.artifacts.complete(ctx, target, repository, digest);
    // Blobs no client asks for (it had them, or wanted only the manifest) are fetched later by a job.
    if (!recorded && !pending)
      await this.deps.queue.add(
        'proxy.complete',
        { repository, digest },
        { runAfter: new Date(now.getTime() + this.deps.completeAfterMs) },
      );
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
    const release = await this.deps.slots.take(target.project.id, target.maxUpstreamConn);
    try {
      fetched = await up.remote.getManifest(remoteRepo, digest);
    } catch (err) {
      throw upstreamError(up, err, `${remoteRepo}@${digest}`, true);
    } finally {
      release();
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
    this.assertAllowed(target, repository);
    const cached = await notCached(this.deps.blobs.stat(ctx, repository, digest));
    if (cached) return cached;
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
    this.assertAllowed(target, repository);
    const cached = await notCached(this.deps.blobs.open(ctx, repository, digest, range));
    if (cached) return cached;
    const live = await this.fetchBlob(ctx, target, repository, digest, range === undefined);
    if (!live) return this.deps.blobs.open(ctx, repository, digest, range);
    return { digest, size: live.size, body: live.body };
  }

  /**
   * Makes a fetched manifest whole (the `proxy.complete` job): fetches the blobs no client asked for and
   * records the artifact, as if the client that fetched the manifest had pulled them.
   */
  async fillIn(repository: string, digest: string): Promise<string> {
    const target = await this.target(repository);
    if (!target) return `${repository} is not in a proxy-cache project any more; nothing to do`;
    const row = await this.deps.store.proxyCache.pending(repository, digest);
    if (!row) return `${repository}@${digest} is recorded already; nothing to do`;
    // The artifact is recorded as created by the client whose pull fetched the manifest.
    const ctx: RequestContext = {
      log: this.deps.log,
      ...(row.operator ? { actor: { username: row.operator, clientIp: '', userAgent: 'proxy cache' } } : {}),
    };
    const manifest = parseManifest(await this.deps.storage.getContent(layout.blob(digest)), undefined);
    const missing = await this.deps.store.blobs.missingInProject(
      target.project.id,
      manifest.blobs.map((b) => b.digest),
    );
    for (const blob of missing) await this.fetchBlob(ctx, target, repository, blob, false, true);
    await this.artifacts.complete(ctx, target, repository, digest);
    const left = await this.deps.store.proxyCache.pending(repository, digest);
    return `fetched ${missing.length} blob(s) no client asked for; ${repository}@${digest} ${left ? 'is still not whole' : 'is recorded'}`;
  }

  /**
   * Joins or starts the upstream fetch of a blob; its live bytes when `live` and in time, else undefined.
   * Starting one takes a `max_upstream_conn` slot until the upstream's stream closes: a client is refused
   * (429) when none is free, a job (`wait`) waits for one.
   */
  private async fetchBlob(
    ctx: RequestContext,
    target: ProxyTarget,
    repository: string,
    digest: string,
    live: boolean,
    wait = false,
  ) {
    const up = await this.deps.projects.upstream(target);
    const remoteRepo = ProxyProjects.remoteRepository(target, repository);
    return this.deps.fetches.join(
      ctx,
      { project: target.project, repository, digest },
      async () => {
        const release = await this.deps.slots.take(target.project.id, target.maxUpstreamConn, wait);
        try {
          const blob = await up.remote.getBlob(remoteRepo, digest);
          blob.stream.once('close', release);
          this.deps.metrics.fetched(target.project.name, 'blob');
          return blob;
        } catch (err) {
          release();
          throw upstreamError(up, err, `${remoteRepo}@${digest}`, true, 'BLOB_UNKNOWN');
        }
      },
      {
        ...(up.bucket ? { bucket: up.bucket } : {}),
        cached: () => this.artifacts.blobCached(ctx, target, repository),
        live,
      },
    );
  }
}

/**
 * What the project's own blob service answers, or undefined when the project does not hold the blob
 * (BLOB_UNKNOWN): a cached pull costs what a normal project's costs, one lookup per blob, rather than a
 * lookup here and the same one again in the blob service.
 */
async function notCached<T>(answer: Promise<T>): Promise<T | undefined> {
  try {
    return await answer;
  } catch (err) {
    if (err instanceof AppError && err.code === 'BLOB_UNKNOWN') return undefined;
    throw err;
  }
}
