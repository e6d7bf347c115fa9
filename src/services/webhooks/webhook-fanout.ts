import type { ProjectRow } from '../../db/tables.js';
import { PermanentJobError, type JobContext } from '../../jobs/kind.js';
import {
  webhookDeliverJob,
  webhookEventJob,
  type DeliveryPayload,
  type WebhookRetry,
} from '../../jobs/kinds/webhook.js';
import {
  formatFor,
  nameUuid,
  type FormattedPayload,
  type WebhookEvent,
  type WebhookTarget,
} from './payloads.js';
import type { WebhookPolicy } from './webhook-policies.js';

/** The job kinds the delivery thread runs. */
export const webhookKindNames = ['webhook.event', 'webhook.deliver'];

/**
 * The two job kinds of webhooks, as the serving thread registers them to enqueue: an event, and one
 * delivery. Both run only in the delivery thread (`thread: true`): it claims events in batches
 * (event-batches.ts), never one `webhook.event` job at a time, and runs the deliveries written as jobs.
 */
export function webhookKinds(d: {
  retry: WebhookRetry;
  send: (p: DeliveryPayload, ctx: JobContext) => Promise<void>;
}) {
  const single = () =>
    Promise.reject(new PermanentJobError('webhook events are claimed in batches by the delivery thread'));
  return [webhookEventJob(single), webhookDeliverJob(d.retry, d.send)] as const;
}

/** One request of an event to one target of one policy. */
export interface FannedOut {
  policy: WebhookPolicy;
  target: WebhookTarget;
  formatted: FormattedPayload;
}

/**
 * An event's requests: one per target of each of the project's policies subscribed to it. Default and
 * Slack requests depend on the event and the target's auth header alone: each is rendered once per
 * event, however many targets receive it. CloudEvents name the policy, so they are rendered per target,
 * their `id` and `requestid` derived from `eventKey` (the event's row), the policy and the target: an
 * event sent again after a crash carries the same `id`, which receivers de-duplicate on.
 */
export function fanOut(
  project: ProjectRow,
  policies: WebhookPolicy[],
  event: WebhookEvent,
  eventKey: string,
): FannedOut[] {
  const rendered = new Map<string, FormattedPayload>();
  const render = (target: WebhookTarget, policyId: number, i: number) => {
    const where = { projectId: project.id, policyId };
    if (target.type === 'http' && target.payload_format === 'CloudEvents') {
      const name = `${eventKey}/${policyId}/${i}`;
      return formatFor(target, event, {
        ...where,
        id: nameUuid(`${name}/id`),
        requestId: nameUuid(`${name}/requestid`),
      });
    }
    const key = `${target.type}\n${target.auth_header ?? ''}`;
    let out = rendered.get(key);
    if (!out) rendered.set(key, (out = formatFor(target, event, where)));
    return out;
  };
  const out: FannedOut[] = [];
  for (const policy of policies) {
    if (!policy.eventTypes.includes(event.type)) continue;
    policy.targets.forEach((target, i) =>
      out.push({ policy, target, formatted: render(target, policy.id, i) }),
    );
  }
  return out;
}
