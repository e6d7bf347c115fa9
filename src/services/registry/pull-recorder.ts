import type { MetaStore } from '../../db/store.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';

/**
 * Pull time and pull count are recorded off the request path: pulls are counted in memory and written
 * in one transaction every `intervalMs`, so a burst of pulls costs the database one small write.
 */
export class PullRecorder {
  private artifacts = new Map<number, string>();
  private repositories = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'transaction'>;
      clock: Clock;
      log: Logger;
      intervalMs: number;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.deps.intervalMs);
    this.timer.unref();
  }

  record(repositoryId: number, artifactId: number): void {
    this.artifacts.set(artifactId, this.deps.clock.now().toISOString());
    this.repositories.set(repositoryId, (this.repositories.get(repositoryId) ?? 0) + 1);
  }

  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.artifacts.size === 0 && this.repositories.size === 0) return;
    const artifacts = this.artifacts;
    const repositories = this.repositories;
    this.artifacts = new Map();
    this.repositories = new Map();
    // Rows are locked in the order a repository's delete locks them (repository, then its artifacts, then
    // their tags; a push too starts at the repository), each kind by id: in the other order PostgreSQL
    // found a deadlock with a repository deleted right after a pull and aborted one of the two.
    const byId = <V>(m: Map<number, V>) => new Map([...m].sort((a, b) => a[0] - b[0]));
    this.flushing = this.deps.store
      .transaction(async (tx) => {
        await tx.repositories.addPulls(byId(repositories));
        await tx.artifacts.recordPulls(byId(artifacts));
        await tx.tags.recordPulls(byId(artifacts));
      })
      .catch((err: unknown) => this.deps.log.warn({ err }, 'could not record pull times; they are dropped'))
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flushing;
    await this.flush();
  }
}
