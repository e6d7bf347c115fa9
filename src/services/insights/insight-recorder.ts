import type { MetaStore, Repos } from '../../db/store.js';
import type { RepositoryDayCounts, Severities, UserDayCounts } from '../../db/repos/insights.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';

/** What an insight counts of one push, pull or delete (from the domain event). */
export interface ActivityEvent {
  /** `project/repo…`; the project is its first segment. */
  repository: string;
  /** The artifact's size (manifest, layers and children), for pushes and pulls. */
  size?: number;
  /** Who did it; anonymous pulls and jobs (replication, retention) count as no user. */
  username?: string | undefined;
}

type Counts = Omit<RepositoryDayCounts, 'projectId' | 'day' | 'repository'>;
type UserCounts = Pick<UserDayCounts, 'pushes' | 'pulls'>;

/** The UTC date of an instant, as the insight tables key their rows. */
export function dayOf(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/**
 * Keeps the daily insight aggregates from the domain events, off the request path: events are counted in
 * memory and written every `intervalMs` as a few multi-row upserts that add to the stored counters (so any
 * number of nodes can do the same), followed by a snapshot of the touched projects' storage. A crash loses
 * at most the last interval's counts, as pull times are lost (see docs/insights.md).
 */
export class InsightRecorder {
  private repositories = new Map<string, Counts>();
  private users = new Map<string, UserCounts>();
  private touched = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'insights' | 'transaction'>;
      clock: Clock;
      log: Logger;
      intervalMs: number;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.deps.intervalMs);
    this.timer.unref();
  }

  recordPush(e: ActivityEvent): void {
    this.count(e, 'pushes', e.size ?? 0);
    this.touched.add(projectOf(e.repository));
  }

  recordPull(e: ActivityEvent): void {
    this.count(e, 'pulls', e.size ?? 0);
  }

  /** `artifacts` deleted at once (a whole repository's), one by default. */
  recordDelete(e: ActivityEvent, artifacts = 1): void {
    this.count(e, 'deletes', 0, artifacts);
    this.touched.add(projectOf(e.repository));
  }

  /** The project's storage changed without a push or delete (a repository or tag removed). */
  recordStorageChange(repository: string): void {
    this.touched.add(projectOf(repository));
  }

  /** Scanning's latest totals for a project (the VulnerabilitiesCounted event): today's snapshot. */
  async recordVulnerabilities(projectId: number, counts: Severities): Promise<void> {
    await this.deps.store.insights.setVulnerabilities(dayOf(this.deps.clock.now()), projectId, counts);
  }

  /** Copies every project's usage into today's storage snapshot (the daily `insights.snapshot` job). */
  async snapshotStorage(): Promise<void> {
    await this.deps.store.insights.snapshotStorage(dayOf(this.deps.clock.now()));
  }

  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.repositories.size === 0 && this.touched.size === 0) return;
    const repositories = this.repositories;
    const users = this.users;
    const touched = this.touched;
    this.repositories = new Map();
    this.users = new Map();
    this.touched = new Set();
    this.flushing = this.deps.store
      .transaction((tx) => this.write(tx, repositories, users, touched))
      .catch((err: unknown) =>
        this.deps.log.warn({ err }, 'could not record insight counts; they are dropped'),
      )
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

  private count(e: ActivityEvent, what: 'pushes' | 'pulls' | 'deletes', bytes: number, n = 1): void {
    const day = dayOf(this.deps.clock.now());
    const key = `${day}\n${e.repository}`;
    const c = this.repositories.get(key) ?? { pushes: 0, pulls: 0, deletes: 0, pushBytes: 0, pullBytes: 0 };
    c[what] += n;
    if (what === 'pushes') c.pushBytes += bytes;
    if (what === 'pulls') c.pullBytes += bytes;
    this.repositories.set(key, c);
    if (!e.username || what === 'deletes') return;
    const userKey = `${day}\n${projectOf(e.repository)}\n${e.username}`;
    const u = this.users.get(userKey) ?? { pushes: 0, pulls: 0 };
    u[what] += 1;
    this.users.set(userKey, u);
  }

  /** One transaction: a reader sees a batch's counts and the storage they changed together. */
  private async write(
    tx: Repos,
    repositories: Map<string, Counts>,
    users: Map<string, UserCounts>,
    touched: Set<string>,
  ): Promise<void> {
    const names = new Set(touched);
    for (const key of repositories.keys()) names.add(projectOf(key.split('\n')[1]!));
    const ids = await tx.insights.projectIds([...names]);
    const repoRows: RepositoryDayCounts[] = [];
    for (const [key, c] of repositories) {
      const [day, repository] = key.split('\n') as [string, string];
      const projectId = ids.get(projectOf(repository));
      if (projectId !== undefined) repoRows.push({ day, projectId, repository, ...c });
    }
    const userRows: UserDayCounts[] = [];
    for (const [key, c] of users) {
      const [day, project, username] = key.split('\n') as [string, string, string];
      const projectId = ids.get(project);
      if (projectId !== undefined) userRows.push({ day, projectId, username, ...c });
    }
    await tx.insights.addRepositoryCounts(repoRows);
    await tx.insights.addUserCounts(userRows);
    const changed = [...touched].map((n) => ids.get(n)).filter((id): id is number => id !== undefined);
    await tx.insights.snapshotStorage(dayOf(this.deps.clock.now()), changed);
  }
}

function projectOf(repository: string): string {
  return repository.split('/', 1)[0]!;
}
