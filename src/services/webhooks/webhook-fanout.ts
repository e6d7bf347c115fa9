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

export type EnqueueDeliveries = (
  tx: Repos,
  kind: 'webhook.deliver',
  jobs: { payload: DeliveryPayload; options: { executionId: number } }[],
) => Promise<void>;

/** The job kinds the delivery thread runs. */
export const webhookKindNames = ['webhook.event', 'webhook.deliver'];

/** The two job kinds of webhooks, for a queue: an event's fan-out and one delivery. */
export function webhookKinds(d: {
  store: Pick<MetaStore, 'projects' | 'notificationPolicies'>;
  clock: Clock;
  retry: WebhookRetry;
  send: (p: DeliveryPayload, ctx: JobContext) => Promise<void>;
  enqueue?: EnqueueDeliveries;
  wake(): void;
}) {
  const enqueue = d.enqueue ?? (() => Promise.reject(new Error('no queue to write deliveries to')));
  return [webhookEventJob(fanOutEvent({ ...d, enqueue })), webhookDeliverJob(d.retry, d.send)] as const;
}

/**
 * Runs a `webhook.event` job in the delivery thread: reads the project's enabled policies subscribed to
 * the event (through the read cache) and, in the transaction that records the job done, writes one
 * execution and one `webhook.deliver` job per target. The change that caused the event wrote only the
 * event job. The events settled in one transaction write their executions and jobs together: one
 * statement per vendor and one for the jobs, however many events the batch holds.
 */
export function fanOutEvent(d: {
  store: Pick<MetaStore, 'projects' | 'notificationPolicies'>;
  clock: Clock;
  enqueue: EnqueueDeliveries;
  /** After the deliveries are committed. */
  wake(): void;
}) {
  return async ({ projectId, event }: EventPayload, ctx: JobContext): Promise<void> => {
    const project = await d.store.projects.findById(projectId);
    if (!project) return;
    const policies = (await d.store.notificationPolicies.enabledOf(projectId))
      .map(readPolicy)
      .filter((p) => p.eventTypes.includes(event.type));
    if (policies.length === 0) return;
    ctx.onOutcome(async (_tx, outcome, batch) => {
      if (outcome !== 'succeeded') return;
      batch
        .gather(
          'webhook.deliveries',
          (): FannedOut[] => [],
          (tx, all) => writeDeliveries(tx, d, all),
        )
        .push({ project, policies, event: event as WebhookEvent });
      return () => d.wake();
    });
  };
}

/** One event and the policies it goes to. */
interface FannedOut {
  project: ProjectRow;
  policies: WebhookPolicy[];
  event: WebhookEvent;
}

/**
 * One execution and one delivery job per target of each policy subscribed to each event: the executions
 * of each vendor in one statement, the jobs in another.
 */
async function writeDeliveries(
  tx: Repos,
  d: { clock: Clock; enqueue: EnqueueDeliveries },
  events: FannedOut[],
): Promise<void> {
  const now = d.clock.now().toISOString();
  const deliveries = events.flatMap(({ project, policies, event }) => {
    // Default and Slack requests depend on the event and the target's auth header alone: each is
    // rendered once per event, however many targets receive it. CloudEvents name the policy.
    const rendered = new Map<string, FormattedPayload>();
    const render = (target: WebhookTarget, policyId: number) => {
      const where = { projectId: project.id, policyId };
      if (target.type === 'http' && target.payload_format === 'CloudEvents')
        return formatFor(target, event, where);
      const key = `${target.type}\n${target.auth_header ?? ''}`;
      let out = rendered.get(key);
      if (!out) rendered.set(key, (out = formatFor(target, event, where)));
      return out;
    };
    return policies.flatMap((policy) =>
      policy.targets.map((target) => ({ policy, target, event, formatted: render(target, policy.id) })),
    );
  });
  // Statements of at most `perStatement` rows keep within SQLite's limit of bound values.
  for (let i = 0; i < deliveries.length; i += perStatement)
    await writeSome(tx, d, deliveries.slice(i, i + perStatement), now);
}

const perStatement = 100;

async function writeSome(
  tx: Repos,
  d: { enqueue: EnqueueDeliveries },
  deliveries: {
    policy: WebhookPolicy;
    target: WebhookTarget;
    event: WebhookEvent;
    formatted: FormattedPayload;
  }[],
  now: string,
): Promise<void> {
  const jobs: { payload: DeliveryPayload; options: { executionId: number } }[] = [];
  for (const vendor of ['WEBHOOK', 'SLACK'] as const) {
    const mine = deliveries.filter((x) => (x.target.type === 'slack' ? 'SLACK' : 'WEBHOOK') === vendor);
    if (mine.length === 0) continue;
    const ids = await tx.executions(vendor).createMany(
      mine.map((x) => ({
        vendorId: x.policy.id,
        trigger: 'EVENT',
        // `event_type` first: the last-trigger lookup matches on this prefix.
        extraAttrs: { event_type: x.event.type, payload: x.formatted.body },
        status: 'Pending' as const,
      })),
      now,
    );
    mine.forEach(({ policy, target, formatted }, i) =>
      jobs.push({
        payload: {
          policyId: policy.id,
          notifyType: target.type,
          address: target.address,
          headers: formatted.headers,
          body: formatted.body,
          skipCertVerify: target.skip_cert_verify,
        },
        options: { executionId: ids[i]! },
      }),
    );
  }
  await d.enqueue(tx, 'webhook.deliver', jobs);
}
