import { LRUCache } from 'lru-cache';
import type { MetaStore } from '../../db/store.js';
import type { ProjectRow, RegistryRow } from '../../db/tables.js';
import { AppError } from '../../lib/errors.js';
import { splitRepositoryName } from '../../oci/names.js';
import type { RemoteOptions, RemoteRegistry } from '../../remotes/adapter.js';
import { TokenBucket } from '../../remotes/rate-limit.js';
import { repositoryFilter } from './repository-filter.js';

/** A proxy-cache project as the pull path needs it. */
export interface ProxyTarget {
  project: ProjectRow;
  registryId: number;
  /**
   * Harbor's `proxy_speed_kb`: the project's download rate from the upstream in Kbit/s (Harbor's limiter
   * allows `proxy_speed_kb` × 1024 / 8 bytes a second); 0 = unlimited.
   */
  speedKbps: number;
  /** Harbor's `proxy_cache_filter_pattern`/`_kind`: the upstream repositories the project serves; undefined = all. */
  filter: ((remoteRepository: string) => boolean) | undefined;
  /** Harbor's `proxy_referrer_api`: the referrers API asks the upstream (else it answers from the cache). */
  referrerApi: boolean;
  /** Berth's `proxy_cache_stale_minutes`; undefined = a cached tag is served stale for as long as needed. */
  staleMinutes: number | undefined;
  /** Harbor's `proxy_cache_local_on_not_found`: serve the cached tag when the upstream no longer has it. */
  localOnNotFound: boolean;
  /**
   * Berth's `proxy_cache_check_seconds`: a cached tag checked at the upstream this recently is served
   * without asking again (0 = ask on every pull, as Harbor does).
   */
  checkSeconds: number;
  /** Harbor's `max_upstream_conn`: downloads the project may have open at its upstream at once; 0 = no limit. */
  maxUpstreamConn: number;
}

/**
 * The bytes a second `proxy_speed_kb` allows. Harbor's swagger calls it Kbps, and its limiter
 * (src/lib/iothrottler.go: `KBRATE = 1024 / 8`) allows kb × 128 bytes a second: kibibits.
 */
export function bytesPerSecond(speedKbps: number): number {
  return speedKbps * (1024 / 8);
}

/** How long a tag's upstream check stands when the project does not say (docs/proxy-cache.md). */
export const defaultCheckSeconds = 60;

export interface Upstream {
  registry: RegistryRow;
  remote: RemoteRegistry;
  /** The project's bandwidth limit, shared by all its downloads. */
  bucket: TokenBucket | undefined;
}

/**
 * Upstream calls that decide whether to serve a cached tag give up sooner than replication's; blob
 * downloads read into reusable memory (BlobFetches hands each chunk back once its client and the file have it).
 */
const remoteOptions: RemoteOptions = { timeoutMs: 10_000, idleTimeoutMs: 60_000, pooledBlobReads: true };

/**
 * Which projects are proxy caches, and the client of each one's upstream. The answer for a project name
 * is kept a few seconds: every /v2 request asks it, and a project's registry never changes after it is
 * created (a deleted and recreated project is seen within `ttlMs`).
 */
export class ProxyProjects {
  private readonly targets: LRUCache<string, { target: ProxyTarget | null }>;
  private readonly upstreams = new Map<string, Upstream>();

  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'projects' | 'projectCatalog' | 'registries'>;
      remote(row: RegistryRow, options: RemoteOptions): Promise<RemoteRegistry>;
      ttlMs?: number;
    },
  ) {
    this.targets = new LRUCache({ max: 2000, ttl: deps.ttlMs ?? 5000 });
  }

  /** The proxy-cache project a repository name belongs to, or undefined for a normal (or missing) project. */
  async of(repository: string): Promise<ProxyTarget | undefined> {
    const name = splitRepositoryName(repository).project;
    const hit = this.targets.get(name);
    if (hit) return hit.target ?? undefined;
    const row = await this.deps.store.projects.findByName(name);
    const target = row?.registry_id ? await this.targetOf(row, row.registry_id) : null;
    this.targets.set(name, { target });
    return target ?? undefined;
  }

  private async targetOf(project: ProjectRow, registryId: number): Promise<ProxyTarget> {
    const meta = (await this.deps.store.projectCatalog.metadata([project.id])).get(project.id) ?? {};
    const stale = meta.proxy_cache_stale_minutes;
    const check = meta.proxy_cache_check_seconds;
    return {
      project,
      registryId,
      speedKbps: Math.max(0, Number(meta.proxy_speed_kb ?? 0) || 0),
      filter: repositoryFilter(meta.proxy_cache_filter_pattern, meta.proxy_cache_filter_kind),
      referrerApi: meta.proxy_referrer_api === 'true',
      staleMinutes: stale !== undefined && stale !== '' && Number(stale) >= 0 ? Number(stale) : undefined,
      localOnNotFound: meta.proxy_cache_local_on_not_found === 'true',
      checkSeconds:
        check !== undefined && check !== '' && Number(check) >= 0 ? Number(check) : defaultCheckSeconds,
      // As Harbor: only a positive number limits (-1, the UI's "no limit", or absent: none).
      maxUpstreamConn: Math.max(0, Number(meta.max_upstream_conn ?? 0) || 0),
    };
  }

  /** The client of the project's upstream, rebuilt when the registry endpoint was edited. */
  async upstream(target: ProxyTarget): Promise<Upstream> {
    const registry = await this.deps.store.registries.find(target.registryId);
    if (!registry)
      throw new AppError(
        'UNAVAILABLE',
        `the registry endpoint of proxy project ${target.project.name} is gone`,
      );
    const key = `${target.project.id}:${registry.id}:${registry.update_time}:${target.speedKbps}`;
    let up = this.upstreams.get(key);
    if (!up) {
      for (const [k, old] of this.upstreams)
        if (k.startsWith(`${target.project.id}:`)) {
          this.upstreams.delete(k);
          // Downloads in flight keep their own connections; later ones use the new client.
          setTimeout(() => void old.remote.close(), 120_000).unref();
        }
      up = {
        registry,
        remote: await this.deps.remote(registry, remoteOptions),
        bucket: target.speedKbps > 0 ? new TokenBucket(bytesPerSecond(target.speedKbps)) : undefined,
      };
      this.upstreams.set(key, up);
    }
    return up;
  }

  /** The repository's name at the upstream: the local name without the project. */
  static remoteRepository(target: ProxyTarget, repository: string): string {
    return repository.slice(target.project.name.length + 1);
  }

  async close(): Promise<void> {
    await Promise.all([...this.upstreams.values()].map((u) => u.remote.close()));
    this.upstreams.clear();
  }
}
