import type { MetaStore } from '../../db/store.js';
import type { Log } from '../../lib/logger.js';
import type { BlobFetches } from './blob-fetches.js';
import type { ProxyTarget } from './proxy-projects.js';
import type { UpstreamSlots } from './upstream-slots.js';

/** The most fetched manifests a process remembers for reading ahead (the oldest is forgotten first). */
const maxPlans = 256;

interface Plan {
  /** The manifest's blobs in its order: the config, then the layers. */
  blobs: string[];
  at: number;
}

/**
 * Read-ahead of a fetched manifest's blobs (`registry.proxyReadAhead`, docs/proxy-cache.md). A client
 * pulling an image through a proxy project asks for its blobs one after another (skopeo one at a time);
 * each blob fetched only when asked for starts with a pause (claim, quota, the upstream's answer) and
 * nothing overlaps. So when a client asks for a blob of a manifest this process fetched and has not
 * recorded yet, the next `depth` missing blobs in the manifest's order are fetched too, through the same
 * single-flight fetches (one upstream request per blob, whoever asks) and `max_upstream_conn` slots: a
 * read-ahead takes a slot only when one is left for a client after it, else it is skipped.
 */
export class ReadAhead {
  /** repository -> manifest digest -> plan. */
  private readonly plans = new Map<string, Map<string, Plan>>();
  private count = 0;

  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'blobs'>;
      fetches: Pick<BlobFetches, 'busy'>;
      slots: Pick<UpstreamSlots, 'tryTake'>;
      log: Log;
      /** Blobs fetched ahead of the client; 0 turns read-ahead off. */
      depth: number;
      /** How long a plan is kept (the fetched manifest is made whole by `proxy.complete` after it). */
      keepMs: number;
      now: () => number;
    },
  ) {}

  /** A manifest fetched from the upstream and pending: its blobs may be read ahead. */
  remember(repository: string, digest: string, blobs: string[]): void {
    if (this.deps.depth <= 0 || blobs.length < 2) return;
    let plans = this.plans.get(repository);
    if (!plans) this.plans.set(repository, (plans = new Map()));
    if (!plans.has(digest)) this.count++;
    plans.set(digest, { blobs, at: this.deps.now() });
    if (this.count > maxPlans) this.forgetOldest();
  }

  /**
   * A client asked for `digest` in `repository`: starts (through `fetch`, given the slot it took) the
   * fetch of the next missing blobs of the remembered manifests that list it. Costs no SQL when no
   * remembered manifest lists the blob (every pull of cached content).
   */
  async asked(
    target: ProxyTarget,
    repository: string,
    digest: string,
    fetch: (blob: string, release: () => void) => Promise<unknown>,
  ): Promise<void> {
    const plans = this.plans.get(repository);
    if (!plans) return;
    const now = this.deps.now();
    const ahead: string[] = [];
    for (const [manifest, plan] of plans) {
      if (now - plan.at > this.deps.keepMs) {
        this.forget(repository, manifest);
        continue;
      }
      const at = plan.blobs.indexOf(digest);
      if (at >= 0) ahead.push(...plan.blobs.slice(at + 1).filter((b) => !ahead.includes(b)));
    }
    if (ahead.length === 0) return;
    const missing = new Set(await this.deps.store.blobs.missingInProject(target.project.id, ahead));
    // The next `depth` blobs not stored yet, in the manifest's order; those already being fetched count.
    const next = ahead.filter((b) => missing.has(b)).slice(0, this.deps.depth);
    for (const blob of next) {
      if (this.deps.fetches.busy(target.project.id, blob)) continue;
      const release = this.deps.slots.tryTake(target.project.id, target.maxUpstreamConn, 1);
      if (!release) return;
      void fetch(blob, release)
        .catch((err: unknown) =>
          this.deps.log.debug({ err, repository, digest: blob }, 'proxy cache: a read-ahead failed'),
        )
        .finally(release);
    }
    if (missing.size === 0)
      for (const [manifest, plan] of plans)
        if (plan.blobs.includes(digest)) this.forget(repository, manifest);
  }

  private forget(repository: string, manifest: string): void {
    const plans = this.plans.get(repository);
    if (!plans?.delete(manifest)) return;
    this.count--;
    if (plans.size === 0) this.plans.delete(repository);
  }

  private forgetOldest(): void {
    let oldest: [string, string, number] | undefined;
    for (const [repository, plans] of this.plans)
      for (const [manifest, plan] of plans)
        if (!oldest || plan.at < oldest[2]) oldest = [repository, manifest, plan.at];
    if (oldest) this.forget(oldest[0], oldest[1]);
  }
}
