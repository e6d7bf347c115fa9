import type { MetaStore, Repos } from '../../db/store.js';
import type { EventPayload } from '../../jobs/kinds/webhook.js';
import type { ProjectRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { DomainEvents, ScanEnded } from '../events.js';
import { formatBytes, quotaExceededMessage } from '../policies/quota/storage-limit.js';
import type { Rule } from '../policies/retention/policy.js';
import {
  replicationData,
  retentionData,
  type WebhookEvent,
  type WebhookEventData,
  type WebhookEventType,
} from './payloads.js';
import { readPolicy, type WebhookPolicy } from './webhook-policies.js';
import { operatorName, type Actor } from '../context.js';

export interface WebhookNotifierDeps {
  store: Pick<MetaStore, 'transaction'>;
  clock: Clock;
  log: Logger;
  /** Adds the event's job in the caller's transaction. */
  enqueue(tx: Repos, event: EventPayload): Promise<void>;
  /** The registry's `host[:port]` as clients name it: the prefix of `resource_url`. */
  registryHost(): string;
  /** The registry's URL (`scheme://host[:port]`): the local side of a replication. */
  registryEndpoint(): string;
  /** Tells this node's worker that deliveries were committed (after the change's commit). */
  wake(): void;
  /** How long pull events wait in memory before their deliveries are written together. */
  pullBatchMs: number;
}

export interface ArtifactChange {
  repository: string;
  digest: string;
  tag: string | null;
  actor?: Actor | undefined;
  /** The repository's creation time, when the event carries it (else it is read). */
  repositoryCreated?: string | undefined;
}

/** Quota percentage at which a successful push fires QUOTA_WARNING (Harbor's default). */
export const quotaWarningPercent = 85;

/**
 * Turns domain events into webhook deliveries. When an enabled policy of the project subscribes to the
 * event type, it writes one `webhook.event` job holding the event, in the transaction of the change: the
 * event is committed with its cause or not at all. The delivery thread fans it out, sends it and records
 * an execution (vendor WEBHOOK or SLACK, as Harbor) and its task per target (event-batches.ts), so the
 * serving thread renders nothing and writes one row per event. Pulls are the exception: they are held in
 * memory and written in one transaction every `pullBatchMs`, so a pull costs the database no write.
 */
export class WebhookNotifier {
  private pulls: { event: ArtifactChange; at: Date }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private committed = 0;

  constructor(private readonly d: WebhookNotifierDeps) {}

  start(): void {
    this.timer = setInterval(() => void this.flushPulls(), this.d.pullBatchMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flushing;
    await this.flushPulls();
  }

  /** After the commit of a change whose transaction may have written deliveries. */
  afterCommit(): void {
    if (this.committed === 0) return;
    this.committed = 0;
    this.d.wake();
  }

  /** PUSH_ARTIFACT or DELETE_ARTIFACT (and QUOTA_WARNING after a push), in the change's transaction. */
  async artifactChanged(
    tx: Repos,
    type: 'PUSH_ARTIFACT' | 'DELETE_ARTIFACT',
    e: ArtifactChange,
  ): Promise<void> {
    const at = this.d.clock.now();
    const found = await this.subscribed(tx, e.repository, [type, 'QUOTA_WARNING']);
    if (!found) return;
    const { project, policies } = found;
    if (policies.some((p) => p.eventTypes.includes(type))) {
      const event = await this.artifactEvent(tx, project, type, e, at);
      await this.deliver(tx, project, policies, event);
    }
    if (type === 'PUSH_ARTIFACT' && policies.some((p) => p.eventTypes.includes('QUOTA_WARNING')))
      await this.quotaWarning(tx, project, policies, e, at);
  }

  /** SCANNING_COMPLETED, SCANNING_FAILED or SCANNING_STOPPED, in the transaction recording the outcome. */
  async scanEnded(
    tx: Repos,
    type: 'SCANNING_COMPLETED' | 'SCANNING_FAILED' | 'SCANNING_STOPPED',
    e: ScanEnded,
  ): Promise<void> {
    const found = await this.subscribed(tx, e.repository, [type]);
    if (!found) return;
    const base = await this.artifactEvent(tx, found.project, type, { ...e }, this.d.clock.now());
    const resource = base.eventData.resources![0]!;
    const overview = e.overview ?? {};
    await this.deliver(tx, found.project, found.policies, {
      ...base,
      // Who asked for the scan (Harbor's task attribute), not an actor: the scan job raised the event.
      operator: e.operator,
      eventData: {
        resources: [
          {
            ...(e.tag ? { tag: e.tag } : {}),
            digest: e.digest,
            ...(resource.resource_url ? { resource_url: resource.resource_url } : {}),
            ...(e.scanType === 'sbom' ? { sbom_overview: overview } : { scan_overview: overview }),
          },
        ],
        repository: repositoryOf(found.project, e.repository),
        scan: { scan_type: e.scanType },
      },
    });
  }

  /**
   * TAG_RETENTION, as Harbor sends it: once per repository task that removed something, never for a dry
   * run, to the policy's project; `retention_rule` lists every rule of the policy.
   */
  async retentionFinished(tx: Repos, e: DomainEvents['RetentionTaskFinished']): Promise<void> {
    if (e.dryRun || e.deleted.length === 0) return;
    const project = await tx.projects.findById(e.projectId);
    if (!project) return;
    const row = await tx.retention.findPolicy(e.policyId);
    const rules = row ? (JSON.parse(row.rules) as Rule[]) : [];
    await this.notify(tx, e.projectId, {
      type: 'TAG_RETENTION',
      occurAt: unix(this.d.clock.now()),
      operator: e.operator,
      eventData: {
        retention: retentionData({
          ...e,
          hostname: this.d.registryHost().split(':')[0]!,
          projectName: project.name,
          rules,
        }),
      },
    });
  }

  /**
   * REPLICATION, as Harbor sends it: once per task that ended Success or Error, to the project of the
   * local side (the source of a push-based policy, the destination of a pull-based one). The resources
   * and namespaces are filled as Harbor's handler fills them, its crossed namespaces included.
   */
  async replicationFinished(tx: Repos, e: DomainEvents['ReplicationTaskFinished']): Promise<void> {
    const policy = await tx.replication.findPolicy(e.policyId);
    const execution = await tx.replication.findExecution(e.executionId);
    if (!policy || !execution) return;
    const remoteId = policy.dest_registry_id ?? policy.src_registry_id;
    const remote = remoteId === null ? undefined : await tx.registries.find(remoteId);
    if (!remote) return;
    const pushMode = policy.src_registry_id === null;
    const [srcNamespace, srcName] = splitResource(e.srcRepository, e.references.length);
    const [destNamespace, destName] = splitResource(e.dstRepository, e.references.length);
    const project = await tx.projects.findByName(pushMode ? srcNamespace : destNamespace);
    if (!project) return;
    const remoteRes = {
      registry_name: remote.name,
      registry_type: remote.type,
      endpoint: remote.url,
      namespace: srcNamespace,
    };
    const localRes = {
      registry_type: 'harbor',
      endpoint: this.d.registryEndpoint(),
      namespace: destNamespace,
    };
    await this.notify(tx, project.id, {
      type: 'REPLICATION',
      occurAt: unix(this.d.clock.now()),
      operator: '',
      eventData: {
        replication: replicationData({
          hostname: this.d.registryHost().split(':')[0]!,
          status: e.status,
          description: policy.description,
          artifactType: e.resourceType,
          authenticationType: remote.credential_type,
          override: policy.override === 1,
          trigger: execution.trigger,
          executionTimestamp: unix(new Date(execution.start_time)),
          src: pushMode ? localRes : remoteRes,
          dest: pushMode ? remoteRes : localRes,
          nameAndTag: pushMode ? srcName : destName,
          references: e.references,
          executionId: e.executionId,
          taskId: e.taskId,
        }),
      },
    });
  }

  /** A pull: held in memory, delivered with the next batch. */
  artifactPulled(e: ArtifactChange): void {
    this.pulls.push({ event: e, at: this.d.clock.now() });
  }

  /** QUOTA_EXCEED: the refused push rolled back, so its deliveries get a transaction of their own. */
  async quotaExceeded(e: DomainEvents['QuotaExceeded']): Promise<void> {
    const at = this.d.clock.now();
    await this.d.store.transaction(async (tx) => {
      const found = await this.subscribed(tx, e.repository, ['QUOTA_EXCEED']);
      if (!found) return;
      await this.deliver(tx, found.project, found.policies, {
        type: 'QUOTA_EXCEED',
        occurAt: unix(at),
        operator: operatorName(e.actor) ?? '',
        eventData: {
          resources: [{ digest: e.digest }],
          repository: repositoryOf(found.project, e.repository),
          custom_attributes: { Details: quotaExceededMessage(found.project.name, e.hard, e.used, e.adding) },
        },
      });
    });
    this.afterCommit();
  }

  /**
   * Any event built elsewhere (replication, retention, scanning), in the caller's transaction or in one
   * of its own.
   */
  async notify(tx: Repos | undefined, projectId: number, event: WebhookEvent): Promise<void> {
    const run = async (t: Repos) => {
      const project = await t.projects.findById(projectId);
      if (!project) return;
      const policies = (await t.notificationPolicies.enabledOf(project.id))
        .map(readPolicy)
        .filter((p) => p.eventTypes.includes(event.type));
      if (policies.length > 0) await this.deliver(t, project, policies, event);
    };
    if (tx) return run(tx);
    await this.d.store.transaction(run);
    this.afterCommit();
  }

  /** Writes the pulls held in memory as deliveries, in one transaction. */
  async flushPulls(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.pulls.length === 0) return;
    const batch = this.pulls;
    this.pulls = [];
    this.flushing = this.d.store
      .transaction(async (tx) => {
        for (const { event, at } of batch) {
          const found = await this.subscribed(tx, event.repository, ['PULL_ARTIFACT']);
          if (!found) continue;
          const e = await this.artifactEvent(tx, found.project, 'PULL_ARTIFACT', event, at);
          await this.deliver(tx, found.project, found.policies, e);
        }
      })
      .then(() => this.afterCommit())
      .catch((err: unknown) => this.d.log.warn({ err }, 'could not write pull webhooks; they are dropped'))
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  /** The project of a repository and its enabled policies subscribed to any of `types`; none: undefined. */
  private async subscribed(
    tx: Repos,
    repository: string,
    types: readonly WebhookEventType[],
  ): Promise<{ project: ProjectRow; policies: WebhookPolicy[] } | undefined> {
    const project = await tx.projects.findByName(repository.split('/', 1)[0]!);
    if (!project) return undefined;
    const rows = await tx.notificationPolicies.enabledOf(project.id);
    if (rows.length === 0) return undefined;
    const policies = rows.map(readPolicy).filter((p) => types.some((t) => p.eventTypes.includes(t)));
    return policies.length > 0 ? { project, policies } : undefined;
  }

  private async artifactEvent(
    tx: Repos,
    project: ProjectRow,
    type: WebhookEventType,
    e: ArtifactChange,
    at: Date,
  ): Promise<WebhookEvent> {
    const created = e.repositoryCreated ?? (await tx.repositories.findByName(e.repository))?.creation_time;
    const reference = e.tag ?? e.digest;
    const sep = e.tag ? ':' : '@';
    return {
      type,
      occurAt: unix(at),
      operator: operatorName(e.actor) ?? '',
      eventData: {
        resources: [
          {
            digest: e.digest,
            tag: reference,
            resource_url: `${this.d.registryHost()}/${e.repository}${sep}${reference}`,
          },
        ],
        repository: {
          ...(created ? { date_created: unix(new Date(created)) } : {}),
          ...repositoryOf(project, e.repository),
        },
      },
    };
  }

  /** QUOTA_WARNING after a push that left the project at or over the warning percentage of its limit. */
  private async quotaWarning(
    tx: Repos,
    project: ProjectRow,
    policies: WebhookPolicy[],
    e: ArtifactChange,
    at: Date,
  ): Promise<void> {
    const quota = (await tx.projectCatalog.quotaRows([project.id])).get(project.id);
    if (!quota || quota.hard_storage <= 0) return;
    if (quota.used_storage * 100 < quota.hard_storage * quotaWarningPercent) return;
    const data: WebhookEventData = {
      resources: [{ digest: e.digest, ...(e.tag ? { tag: e.tag } : {}) }],
      repository: repositoryOf(project, e.repository),
      custom_attributes: {
        Details: `quota usage reach ${quotaWarningPercent}%: resource storage used ${formatBytes(quota.used_storage)} of ${formatBytes(quota.hard_storage)}`,
      },
    };
    await this.deliver(
      tx,
      project,
      policies.filter((p) => p.eventTypes.includes('QUOTA_WARNING')),
      { type: 'QUOTA_WARNING', occurAt: unix(at), operator: operatorName(e.actor) ?? '', eventData: data },
    );
  }

  /**
   * The event for the policies subscribed to it: one `webhook.event` job in `tx`, which the delivery
   * thread fans out, sends, and records as an execution and a task per target (event-batches.ts).
   */
  private async deliver(
    tx: Repos,
    project: ProjectRow,
    policies: WebhookPolicy[],
    event: WebhookEvent,
  ): Promise<void> {
    if (!policies.some((p) => p.eventTypes.includes(event.type))) return;
    // WebhookEvent is the shape the job's schema checks loosely (jobs/ knows no webhook types).
    await this.d.enqueue(tx, { projectId: project.id, event: event as unknown as EventPayload['event'] });
    this.committed++;
  }
}

function unix(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

function repositoryOf(project: ProjectRow, repository: string) {
  return {
    name: repository.slice(repository.indexOf('/') + 1),
    namespace: project.name,
    repo_full_name: repository,
    repo_type: project.public === 1 ? ('public' as const) : ('private' as const),
  };
}

/** Harbor's task resource (`<repository> [<n> item(s) in total]`) split at its first `/`. */
function splitResource(repository: string, items: number): [string, string] {
  const resource = `${repository} [${items} item(s) in total]`;
  const slash = resource.indexOf('/');
  return slash < 0 ? ['', resource] : [resource.slice(0, slash), resource.slice(slash + 1)];
}
