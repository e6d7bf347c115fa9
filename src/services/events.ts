import type { Repos } from '../db/store.js';
import type { Actor } from './context.js';

/**
 * Typed domain events, in two flavours. `emit` runs after the change has committed; its subscribers (the
 * audit log, insights, metrics) must not assume they run in the request's transaction, and may be lost in
 * a crash. `publish` runs inside the change's transaction: its subscribers (event-based replication)
 * enqueue the work that must not be lost with the change, or make it roll back. Every subscription is
 * made in the composition root, src/app.ts, or in a feature's wiring function it calls.
 */
export interface DomainEvents {
  /**
   * `size` is the artifact's (manifest, layers, children). `actor` (here and below) is set when a client's
   * request made the change, not a job: the audit log records the change from it, and webhooks and
   * insights name the operator after it (`operatorName`).
   */
  ArtifactPushed: {
    repository: string;
    digest: string;
    tag: string | null;
    mediaType: string;
    size?: number;
    actor?: Actor | undefined;
    /** The repository's creation time (ISO), when the publisher has its row (webhooks report it). */
    repositoryCreated?: string;
  };
  /** `actor` is set when a client's request pulled (not replication reading this Berth). */
  ArtifactPulled: {
    repository: string;
    digest: string;
    tag: string | null;
    size?: number;
    actor?: Actor | undefined;
  };
  /** `tags`: the tags the artifact had, when known (webhooks name the first). */
  ArtifactDeleted: {
    repository: string;
    digest: string;
    tags?: string[];
    actor?: Actor | undefined;
  };
  /** A tag added to an existing artifact through the API (a push by tag is ArtifactPushed). */
  TagCreated: {
    repository: string;
    digest: string;
    tag: string;
    mediaType: string;
    actor?: Actor | undefined;
  };
  TagDeleted: { repository: string; tag: string; actor?: Actor | undefined };
  /** A label attached to an artifact through the API (Harbor's ARTIFACT_LABELED: event-based preheat runs). */
  ArtifactLabeled: { repository: string; digest: string; labelId: number; actor?: Actor | undefined };
  /** `artifacts`: how many artifacts went with it (each also published as ArtifactDeleted in the transaction). */
  RepositoryDeleted: { repository: string; artifacts: number; actor?: Actor | undefined };
  BlobUploaded: { repository: string; digest: string; size: number };
  /** A push refused by the project's storage quota (nothing of it was kept). */
  QuotaExceeded: {
    projectId: number;
    repository: string;
    digest: string;
    hard: number;
    used: number;
    adding: number;
    /** Who pushed (none when a job's copy was refused). */
    actor?: Actor | undefined;
  };
  /**
   * A project's open vulnerabilities by severity, over the latest report of each of its artifacts: raised
   * by scanning after each scan completes (scanning is not built yet). Activity insights keep it per day.
   */
  VulnerabilitiesCounted: {
    projectId: number;
    critical: number;
    high: number;
    medium: number;
    low: number;
    unknown: number;
  };
  /**
   * A scan of an artifact ended: the scanning feature raises these (published in the transaction that
   * records the outcome) and webhooks deliver them as SCANNING_COMPLETED, SCANNING_FAILED and
   * SCANNING_STOPPED. `overview` is Harbor's scan (or SBOM) summary of the artifact.
   */
  ScanCompleted: ScanEnded;
  ScanFailed: ScanEnded;
  ScanStopped: ScanEnded;
  /**
   * A tag retention task (one repository) ended: published by `retention.process` in the transaction that
   * records its counts. `deleted` are the artifacts it removed (or, in a dry run, would have removed).
   */
  RetentionTaskFinished: {
    executionId: number;
    policyId: number;
    projectId: number;
    repository: string;
    dryRun: boolean;
    operator: string;
    total: number;
    retained: number;
    deleted: { digest: string; tags: string[] }[];
  };
  /**
   * A replication task (one artifact copied or deleted) ended for good: Success, or Error after its last
   * try. Published by `replication.copy` in a transaction of its own as the task ends.
   */
  ReplicationTaskFinished: {
    executionId: number;
    taskId: number;
    policyId: number;
    status: 'Success' | 'Error';
    operation: 'copy' | 'deletion';
    resourceType: string;
    srcRepository: string;
    dstRepository: string;
    /** Tags, or the digest when untagged (Harbor's task `references`). */
    references: string[];
  };
}

export interface ScanEnded {
  repository: string;
  digest: string;
  tag: string | null;
  /** `vulnerability` or `sbom`. */
  scanType: string;
  overview?: Record<string, unknown>;
  operator: string;
}

export type EventName = keyof DomainEvents;
type Handler<K extends EventName> = (event: DomainEvents[K]) => void | Promise<void>;
type TxHandler<K extends EventName> = (tx: Repos, event: DomainEvents[K]) => Promise<void>;

export class EventBus {
  private readonly handlers = new Map<EventName, Handler<EventName>[]>();
  private readonly txHandlers = new Map<EventName, TxHandler<EventName>[]>();

  constructor(private readonly onError: (name: EventName, err: unknown) => void) {}

  on<K extends EventName>(name: K, handler: Handler<K>): void {
    const list = this.handlers.get(name) ?? [];
    list.push(handler as Handler<EventName>);
    this.handlers.set(name, list);
  }

  /** Subscribes inside the transaction of the change: `handler` writes its job rows with `tx`. */
  onTransaction<K extends EventName>(name: K, handler: TxHandler<K>): void {
    const list = this.txHandlers.get(name) ?? [];
    list.push(handler as TxHandler<EventName>);
    this.txHandlers.set(name, list);
  }

  /** Runs the transactional subscribers in `tx`, one after another; a throw rolls the change back. */
  async publish<K extends EventName>(tx: Repos, name: K, event: DomainEvents[K]): Promise<void> {
    for (const handler of this.txHandlers.get(name) ?? []) await handler(tx, event);
  }

  emit<K extends EventName>(name: K, event: DomainEvents[K]): void {
    for (const handler of this.handlers.get(name) ?? []) {
      try {
        void Promise.resolve(handler(event)).catch((err: unknown) => this.onError(name, err));
      } catch (err) {
        this.onError(name, err);
      }
    }
  }
}
