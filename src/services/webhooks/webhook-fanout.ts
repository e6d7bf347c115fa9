import type { NewJob } from '../../db/repos/jobs.js';
import type { MetaStore, Repos } from '../../db/store.js';
import type { ProjectRow } from '../../db/tables.js';
import type { JobContext } from '../../jobs/kind.js';
import {
  webhookDeliverJob,
  webhookEventJob,
  type DeliveryPayload,
  type EventPayload,
  type WebhookRetry,
} from '../../jobs/kinds/webhook.js';
import type { Clock } from '../../lib/clock.js';
import { formatFor, type FormattedPayload, type WebhookEvent, type WebhookTarget } from './payloads.js';
import { readPolicy, type WebhookPolicy } from './webhook-policies.js';

/** Where an event's deliveries go: rows built before the settling transaction, written in it. */
export interface DeliveryQueue {
  /** The `webhook.deliver` jobs' rows, checked and serialized. */
  prepare(jobs: { payload: DeliveryPayload }[]): NewJob[];
  /** Writes prepared rows in `tx`. */
  insert(tx: Repos, rows: NewJob[]): Promise<void>;
}

/** The job kinds the delivery thread runs. */
export const webhookKindNames = ['webhook.event', 'webhook.deliver'];

/** The two job kinds of webhooks, for a queue: an event's fan-out and one delivery. */
export function webhookKinds(d: {
  store: Pick<MetaStore, 'projects' | 'notificationPolicies'>;
  clock: Clock;
  retry: WebhookRetry;
  send: (p: DeliveryPayload, ctx: JobContext) => Promise<void>;
  deliveries?: DeliveryQueue;
}) {
  const deliveries = d.deliveries ?? {
    prepare: () => {
      throw new Error('no queue to write deliveries to');
    },
    insert: () => Promise.reject(new Error('no queue to write deliveries to')),
  };
  return [webhookEventJob(fanOutEvent({ ...d, deliveries })), webhookDeliverJob(d.retry, d.send)] as const;
}

/**
 * Runs a `webhook.event` job in the delivery thread: reads the project's enabled policies subscribed to
 * the event (through the read cache), renders each target's request and builds its job row, and, in the
 * transaction that records the job done, writes one execution and one `webhook.deliver` job per target.
 * The change that caused the event wrote only the event job. The events settled in one transaction
 * write their executions and jobs together: one statement per vendor and one for the jobs, however many
 * events the batch holds; the rendering is done before it, so the transaction (which holds SQLite's
 * write lock) only writes. The thread's worker claims the deliveries at the end of that same
 * transaction (JobWorker's `thread` mode).
 */
export function fanOutEvent(d: {
  store: Pick<MetaStore, 'projects' | 'notificationPolicies'>;
  clock: Clock;
  deliveries: DeliveryQueue;
}) {
  return async ({ projectId, event }: EventPayload, ctx: JobContext): Promise<void> => {
    const project = await d.store.projects.findById(projectId);
    if (!project) return;
    const policies = (await d.store.notificationPolicies.enabledOf(projectId))
      .map(readPolicy)
      .filter((p) => p.eventTypes.includes(event.type));
    if (policies.length === 0) return;
    const rendered = render(project, policies, event as WebhookEvent);
    const rows = d.deliveries.prepare(rendered.map((r) => ({ payload: r.payload })));
    const ready = rendered.map((r, i) => ({ ...r, row: rows[i]! }));
    ctx.onOutcome(async (_tx, outcome, batch) => {
      if (outcome !== 'succeeded') return;
      batch
        .gather(
          'webhook.deliveries',
          (): Ready[] => [],
          (tx, all) => writeDeliveries(tx, d, all),
        )
        .push(...ready);
    });
  };
}

/** One target's delivery of one event: its execution's attributes and its job's row. */
interface Ready {
  vendor: 'WEBHOOK' | 'SLACK';
  policyId: number;
  extraAttrs: { event_type: string; payload: string };
  payload: DeliveryPayload;
  row: NewJob;
}

/**
 * Each target's request for the event. Default and Slack requests depend on the event and the target's
 * auth header alone: each is rendered once per event, however many targets receive it. CloudEvents name
 * the policy.
 */
function render(project: ProjectRow, policies: WebhookPolicy[], event: WebhookEvent): Omit<Ready, 'row'>[] {
  const rendered = new Map<string, FormattedPayload>();
  const formatted = (target: WebhookTarget, policyId: number) => {
    const where = { projectId: project.id, policyId };
    if (target.type === 'http' && target.payload_format === 'CloudEvents')
      return formatFor(target, event, where);
    const key = `${target.type}\n${target.auth_header ?? ''}`;
    let out = rendered.get(key);
    if (!out) rendered.set(key, (out = formatFor(target, event, where)));
    return out;
  };
  return policies.flatMap((policy) =>
    policy.targets.map((target) => {
      const f = formatted(target, policy.id);
      return {
        vendor: target.type === 'slack' ? ('SLACK' as const) : ('WEBHOOK' as const),
        policyId: policy.id,
        // `event_type` first: the last-trigger lookup matches on this prefix.
        extraAttrs: { event_type: event.type, payload: f.body },
        payload: {
          policyId: policy.id,
          notifyType: target.type,
          address: target.address,
          headers: f.headers,
          body: f.body,
          skipCertVerify: target.skip_cert_verify,
        },
      };
    }),
  );
}

/**
 * One execution and one delivery job per target of each policy subscribed to each event: the executions
 * of each vendor in one statement, the jobs in another, in statements of at most `perStatement` rows
 * (SQLite's limit of bound values).
 */
async function writeDeliveries(tx: Repos, d: { clock: Clock; deliveries: DeliveryQueue }, all: Ready[]) {
  const now = d.clock.now().toISOString();
  for (let i = 0; i < all.length; i += perStatement) {
    const some = all.slice(i, i + perStatement);
    const rows: NewJob[] = [];
    for (const vendor of ['WEBHOOK', 'SLACK'] as const) {
      const mine = some.filter((x) => x.vendor === vendor);
      if (mine.length === 0) continue;
      const ids = await tx.executions(vendor).createMany(
        mine.map((x) => ({
          vendorId: x.policyId,
          trigger: 'EVENT',
          extraAttrs: x.extraAttrs,
          status: 'Pending' as const,
        })),
        now,
      );
      mine.forEach((x, j) => rows.push({ ...x.row, executionId: ids[j]! }));
    }
    await d.deliveries.insert(tx, rows);
  }
}

const perStatement = 100;
