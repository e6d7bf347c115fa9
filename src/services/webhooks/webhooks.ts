import type { MetaStore } from '../../db/store.js';
import type { ProjectRow } from '../../db/tables.js';
import { eventAttempts, type WebhookRetry } from '../../jobs/kinds/webhook.js';
import type { JobsConfig } from '../../jobs/runtime.js';
import type { JobQueue } from '../../jobs/queue.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { operatorName, type RequestContext } from '../context.js';
import type { EventBus } from '../events.js';
import { DeliveryThread, type DeliveryPriority } from './delivery-thread.js';
import { formatFor } from './payloads.js';
import { WebhookDeliveries } from './webhook-deliveries.js';
import { webhookKindNames, webhookKinds } from './webhook-fanout.js';
import { WebhookNotifier } from './webhook-notifier.js';
import { validatePolicy, WebhookPolicies, type WebhookPolicyInput } from './webhook-policies.js';
import { WebhookSender } from './webhook-sender.js';

export interface WebhooksConfig {
  /** Time limit of one request to a target. */
  timeoutSeconds: number;
  /** Runs of a delivery in total, the first included. */
  maxAttempts: number;
  /** Delay before the second run; doubles for each further run. */
  retryDelayMs: number;
  /** Requests in flight at once per target address, per worker. */
  concurrencyPerTarget: number;
  /** How long pull events wait in memory before their deliveries are written together. */
  pullBatchMs: number;
  /** How the delivery thread is scheduled (idle: on CPU time the requests leave). */
  deliveryPriority?: DeliveryPriority | undefined;
}

export interface WebhooksDeps {
  store: Pick<MetaStore, 'jobs' | 'notificationPolicies' | 'projects' | 'transaction'>;
  clock: Clock;
  log: Logger;
  queue: JobQueue;
  events: EventBus;
  config: WebhooksConfig;
  registryHost(): string;
  /** The registry's URL (`scheme://host[:port]`). */
  registryEndpoint(): string;
  /**
   * Present when this process runs jobs: its deliveries are sent by a thread of their own over another
   * connection to this database. Absent (`jobs.workers: 0`), other processes' threads send them.
   */
  deliveryThread?: { databaseUrl: string; acquireTimeoutMs: number; jobs: JobsConfig; logLevel: string };
}

/**
 * Project webhooks: policies, deliveries as jobs of the queue, and the domain-event subscriptions that
 * enqueue them. Built and wired by the composition root through `Webhooks.wire`.
 */
export class Webhooks {
  readonly policies: WebhookPolicies;
  readonly deliveries: WebhookDeliveries;
  readonly notifier: WebhookNotifier;
  private readonly sender: WebhookSender;
  private readonly thread: DeliveryThread | undefined;

  private constructor(private readonly d: WebhooksDeps) {
    this.sender = new WebhookSender(d.config.timeoutSeconds * 1000);
    const t = d.deliveryThread;
    const c = d.config;
    this.thread = t
      ? new DeliveryThread(
          {
            ...{ databaseUrl: t.databaseUrl, acquireTimeoutMs: t.acquireTimeoutMs, logLevel: t.logLevel },
            ...{ leaseMs: t.jobs.leaseSeconds * 1000, pollMs: t.jobs.pollIntervalMs },
            concurrency: t.jobs.concurrency,
            timeoutMs: c.timeoutSeconds * 1000,
            retry: retryOf(c),
            priority: c.deliveryPriority ?? 'idle',
          },
          {
            ...{ log: d.log, queue: d.queue, probeMs: Math.max(t.jobs.pollIntervalMs, 2000) },
            runnable: () => d.store.jobs.hasRunnable(webhookKindNames, d.clock.now().toISOString()),
          },
        )
      : undefined;
    this.policies = new WebhookPolicies({ store: d.store, clock: d.clock });
    this.deliveries = new WebhookDeliveries({ store: d.store });
    this.notifier = new WebhookNotifier({
      store: d.store,
      clock: d.clock,
      log: d.log,
      // One insert of a fixed SQL text per event, the push's only webhook work: the notifier built the
      // event, and the delivery thread checks it against the kind's schema when it reads it.
      enqueue: (tx, event) => {
        const now = d.clock.now().toISOString();
        return tx.jobs.insertPlain(
          {
            kind: 'webhook.event',
            payload: JSON.stringify(event),
            maxAttempts: eventAttempts,
            runAfter: now,
          },
          now,
        );
      },
      registryHost: d.registryHost,
      registryEndpoint: d.registryEndpoint,
      wake: () => this.thread?.wake(),
      pullBatchMs: d.config.pullBatchMs,
    });
  }

  /**
   * Registers `webhook.event` and `webhook.deliver` and subscribes to the events webhooks deliver: pushes and deletes in the
   * change's transaction, pulls batched, refused pushes (QUOTA_EXCEED) in a transaction of their own.
   * Scanning, replication and retention call `notifier.notify` with events they build.
   */
  static wire(d: WebhooksDeps): Webhooks {
    const w = new Webhooks(d);
    // Registered here for enqueueing; the delivery thread registers the same kinds to run them.
    const [event, deliver] = webhookKinds({ retry: retryOf(d.config), send: w.sender.send });
    d.queue.register(event);
    d.queue.register(deliver);
    const n = w.notifier;
    d.events.onTransaction('ArtifactPushed', (tx, e) => n.artifactChanged(tx, 'PUSH_ARTIFACT', e));
    d.events.onTransaction('ArtifactDeleted', (tx, e) =>
      n.artifactChanged(tx, 'DELETE_ARTIFACT', { ...e, tag: e.tags?.[0] ?? null }),
    );
    for (const name of ['ArtifactPushed', 'ArtifactDeleted'] as const)
      d.events.on(name, () => n.afterCommit());
    d.events.on('ArtifactPulled', (e) => n.artifactPulled(e));
    d.events.on('QuotaExceeded', (e) => n.quotaExceeded(e));
    const scans = [
      ['ScanCompleted', 'SCANNING_COMPLETED'],
      ['ScanFailed', 'SCANNING_FAILED'],
      ['ScanStopped', 'SCANNING_STOPPED'],
    ] as const;
    for (const [name, type] of scans) {
      d.events.onTransaction(name, (tx, e) => n.scanEnded(tx, type, e));
      d.events.on(name, () => n.afterCommit());
    }
    d.events.onTransaction('RetentionTaskFinished', (tx, e) => n.retentionFinished(tx, e));
    d.events.on('RetentionTaskFinished', () => n.afterCommit());
    d.events.onTransaction('ReplicationTaskFinished', (tx, e) => n.replicationFinished(tx, e));
    d.events.on('ReplicationTaskFinished', () => n.afterCommit());
    n.start();
    return w;
  }

  async stop(): Promise<void> {
    await this.notifier.stop();
    await this.thread?.close();
    this.sender.close();
  }

  /** Sends a test event to each target of `input` at once; a target's failure is a BAD_REQUEST. */
  async test(ctx: RequestContext, project: ProjectRow, input: WebhookPolicyInput): Promise<void> {
    const { targets } = validatePolicy({ ...input, event_types: input.event_types ?? ['PUSH_ARTIFACT'] });
    const repository = `${project.name}/webhook-test`;
    const event = {
      type: 'PUSH_ARTIFACT' as const,
      occurAt: Math.floor(this.d.clock.now().getTime() / 1000),
      operator: operatorName(ctx.actor) ?? '',
      eventData: {
        resources: [{ tag: 'test', resource_url: `${this.d.registryHost()}/${repository}:test` }],
        repository: {
          name: 'webhook-test',
          namespace: project.name,
          repo_full_name: repository,
          repo_type: project.public === 1 ? ('public' as const) : ('private' as const),
        },
      },
    };
    for (const target of targets) {
      const f = formatFor(target, event, { projectId: project.id, policyId: 0 });
      const res = await this.sender
        .post(target.address, f.headers, f.body, {
          skipCertVerify: target.skip_cert_verify,
        })
        .catch((err: unknown) => {
          throw new AppError(
            'BAD_REQUEST',
            `failed to send the test event to ${target.address}: ${String(err)}`,
          );
        });
      if (res.status < 200 || res.status >= 300)
        throw new AppError(
          'BAD_REQUEST',
          `the test event to ${target.address} got abnormal response code: ${res.status}`,
        );
    }
  }
}

function retryOf(c: WebhooksConfig): WebhookRetry {
  return { maxAttempts: c.maxAttempts, retryDelayMs: c.retryDelayMs, perTarget: c.concurrencyPerTarget };
}
