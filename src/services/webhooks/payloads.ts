import { createHash, randomUUID } from 'node:crypto';

/**
 * Webhook payloads byte for byte as Harbor sends them, so a receiver written for Harbor works unchanged:
 * the Default JSON (Go's encoding/json of Harbor's Payload struct: field order, omitted empty fields,
 * `<`, `>`, `&` escaped), CloudEvents 1.0 in structured mode, and Slack's Block Kit message.
 */

/** Harbor's webhook event types, in the order `GET /projects/{p}/webhook/events` lists them. */
export const webhookEventTypes = [
  'PUSH_ARTIFACT',
  'PULL_ARTIFACT',
  'DELETE_ARTIFACT',
  'QUOTA_EXCEED',
  'QUOTA_WARNING',
  'SCANNING_FAILED',
  'SCANNING_STOPPED',
  'SCANNING_COMPLETED',
  'REPLICATION',
  'TAG_RETENTION',
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

export const notifyTypes = ['http', 'slack'] as const;
export type NotifyType = (typeof notifyTypes)[number];
export const payloadFormats = ['Default', 'CloudEvents'] as const;
export type PayloadFormat = (typeof payloadFormats)[number];

/** CloudEvents `type` for each Harbor event type. */
const cloudEventTypes: Record<WebhookEventType, string> = {
  PUSH_ARTIFACT: 'harbor.artifact.pushed',
  PULL_ARTIFACT: 'harbor.artifact.pulled',
  DELETE_ARTIFACT: 'harbor.artifact.deleted',
  QUOTA_EXCEED: 'harbor.quota.exceeded',
  QUOTA_WARNING: 'harbor.quota.warned',
  SCANNING_FAILED: 'harbor.scan.failed',
  SCANNING_STOPPED: 'harbor.scan.stopped',
  SCANNING_COMPLETED: 'harbor.scan.completed',
  REPLICATION: 'harbor.replication.status.changed',
  TAG_RETENTION: 'harbor.tag_retention.finished',
};

/** Harbor's `Resource`, keys in its field order. */
export interface WebhookResource {
  digest?: string;
  tag?: string;
  resource_url?: string;
  scan_overview?: Record<string, unknown>;
  sbom_overview?: Record<string, unknown>;
}

/** Harbor's `Repository` (`date_created` is left out when unknown). */
export interface WebhookRepository {
  date_created?: number;
  name: string;
  namespace: string;
  repo_full_name: string;
  repo_type: 'public' | 'private';
}

/** Harbor's `EventData`: every member is left out when empty. */
export interface WebhookEventData {
  resources?: WebhookResource[];
  repository?: WebhookRepository;
  replication?: Record<string, unknown>;
  retention?: Record<string, unknown>;
  scan?: { scan_type?: string };
  custom_attributes?: Record<string, string>;
}

/** One event as Harbor's webhook handlers build it, before a target formats it. */
export interface WebhookEvent {
  type: WebhookEventType;
  /** Unix seconds. */
  occurAt: number;
  operator: string;
  eventData: WebhookEventData;
}

/** What one target receives: headers and body (the job sends them as they are). */
export interface FormattedPayload {
  headers: Record<string, string>;
  body: string;
}

/** JSON as Go's encoding/json writes it: HTML-significant characters and U+2028/9 escaped. */
export function goJson(value: unknown, indent?: string): string {
  return JSON.stringify(value, null, indent).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Keys in Harbor's order with empty members (omitempty) left out. */
function eventDataJson(d: WebhookEventData): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (d.resources?.length) out['resources'] = d.resources.map(resourceJson);
  if (d.repository) {
    const r = d.repository;
    out['repository'] = {
      ...(r.date_created ? { date_created: r.date_created } : {}),
      name: r.name,
      namespace: r.namespace,
      repo_full_name: r.repo_full_name,
      repo_type: r.repo_type,
    };
  }
  if (d.replication) out['replication'] = d.replication;
  if (d.retention) out['retention'] = d.retention;
  if (d.scan) out['scan'] = d.scan;
  if (d.custom_attributes && Object.keys(d.custom_attributes).length > 0)
    out['custom_attributes'] = sortedKeys(d.custom_attributes);
  return out;
}

function resourceJson(r: WebhookResource): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.digest) out['digest'] = r.digest;
  if (r.tag) out['tag'] = r.tag;
  if (r.resource_url) out['resource_url'] = r.resource_url;
  if (r.scan_overview && Object.keys(r.scan_overview).length) out['scan_overview'] = r.scan_overview;
  if (r.sbom_overview && Object.keys(r.sbom_overview).length) out['sbom_overview'] = r.sbom_overview;
  return out;
}

/** Go writes map keys sorted. */
function sortedKeys<V>(m: Record<string, V>): Record<string, V> {
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The Default format: Harbor's Payload struct as JSON, `Content-Type: application/json`. */
export function defaultPayload(e: WebhookEvent): FormattedPayload {
  const data = eventDataJson(e.eventData);
  const body = goJson({
    type: e.type,
    occur_at: e.occurAt,
    operator: e.operator,
    ...(Object.keys(data).length > 0 ? { event_data: data } : {}),
  });
  return { headers: { 'Content-Type': 'application/json' }, body };
}

/**
 * CloudEvents 1.0, structured mode (`Content-Type: application/cloudevents+json`, no `ce-*` headers, as
 * Harbor sends it): a fresh UUID as `id`, `/projects/{p}/webhook/policies/{id}` as `source`, Harbor's
 * `requestid` and `operator` extensions, and the event data as `data`.
 */
export function cloudEventsPayload(
  e: WebhookEvent,
  where: { projectId: number; policyId: number; requestId?: string; id?: string },
): FormattedPayload {
  const time = new Date(e.occurAt * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const body = goJson({
    specversion: '1.0',
    id: where.id ?? randomUUID(),
    source: `/projects/${where.projectId}/webhook/policies/${where.policyId}`,
    type: cloudEventTypes[e.type],
    datacontenttype: 'application/json',
    time,
    operator: e.operator,
    requestid: where.requestId ?? randomUUID(),
    data: eventDataJson(e.eventData),
  });
  return { headers: { 'Content-Type': 'application/cloudevents+json' }, body };
}

/**
 * Harbor's Slack message, filled in as its Go template does: the text is not escaped, except that the
 * event data (indented JSON with tabs) goes in a code block with its quotes escaped.
 */
export function slackPayload(e: WebhookEvent): FormattedPayload {
  const data = goJson(eventDataJson(e.eventData), '\t').replaceAll('"', '\\"').replaceAll('\\\\"', '\\\\\\"');
  const body = slackTemplate
    .replace('{{.Type}}', () => e.type)
    .replace('{{.OccurAt}}', () => String(e.occurAt))
    .replace('{{.Operator}}', () => e.operator)
    .replace('{{.EventData}}', () => `\`\`\`${data}\`\`\``);
  return { headers: { 'Content-Type': 'application/json' }, body };
}

/** Harbor's SlackBodyTemplate, whitespace included. */
const slackTemplate =
  '{\n\t"blocks": [\n\t\t{\n            "type": "section",\n\t\t\t"text": {\n\t\t\t\t"type": "mrkdwn",\n\t\t\t\t"text": "*Harbor webhook events*"\n\t\t\t}\n        },\n        {\n            "type": "section",\n\t\t\t"text": {\n\t\t\t\t"type": "mrkdwn",\n\t\t\t\t"text": "*event_type:* {{.Type}}"\n\t\t\t}\n        },\n        {\n            "type": "section",\n\t\t\t"text": {\n\t\t\t\t"type": "mrkdwn",\n\t\t\t\t"text": "*occur_at:* <!date^{{.OccurAt}}^{date} at {time}|February 18th, 2014 at 6:39 AM PST>"\n\t\t\t}\n        },\n        {\t"type": "section",\n\t\t\t"text": {\n\t\t\t\t"type": "mrkdwn",\n\t\t\t\t"text": "*operator:* {{.Operator}}"\n\t\t\t}\n\t\t},\n        {\t"type": "section",\n\t\t\t"text": {\n\t\t\t\t"type": "mrkdwn",\n\t\t\t\t"text": "*event_data:*"\n\t\t\t}\n\t\t},\n\t\t{\t"type": "section",\n\t\t\t"text": {\n\t\t\t\t"type": "mrkdwn",\n\t\t\t\t"text": "{{.EventData}}"\n\t\t\t}\n\t\t}\n    ]}';

/** A target of a policy, as Harbor stores it. */
export interface WebhookTarget {
  type: NotifyType;
  address: string;
  auth_header?: string;
  skip_cert_verify: boolean;
  payload_format?: PayloadFormat;
}

/** The headers and body one target gets for an event: its format, plus its auth header as Authorization. */
export function formatFor(
  target: WebhookTarget,
  e: WebhookEvent,
  where: { projectId: number; policyId: number; requestId?: string; id?: string },
): FormattedPayload {
  if (target.type === 'slack') return slackPayload(e);
  const out = target.payload_format === 'CloudEvents' ? cloudEventsPayload(e, where) : defaultPayload(e);
  if (target.auth_header) out.headers['Authorization'] = target.auth_header;
  return out;
}

/** A retention rule's selector as Harbor's `rule.Selector` encodes (every field, `extras` too). */
interface RuleSelector {
  kind?: string;
  decoration?: string;
  pattern?: string;
  extras?: string;
}

/** What TAG_RETENTION reports of one repository task (Harbor's `event_data.retention`). */
export interface RetentionOutcome {
  total: number;
  retained: number;
  /** The registry's host name, without port (Harbor's external URL split at `:`). */
  hostname: string;
  projectName: string;
  policyId: number;
  repository: string;
  rules: {
    template?: string;
    params?: Record<string, unknown>;
    tag_selectors?: RuleSelector[];
    scope_selectors?: Record<string, RuleSelector[]>;
  }[];
  deleted: { digest: string; tags: string[] }[];
}

/**
 * Harbor's `Retention` in its field order: the rules as Go encodes its RetentionRule (empty members left
 * out, map keys sorted), `result` SUCCESS, and each removed artifact named `<repo>:<first tag>` (or
 * `<repo>@<digest>` untagged), the repository without its project, with `references` null.
 */
export function retentionData(o: RetentionOutcome): Record<string, unknown> {
  const selectorJson = (s: RuleSelector) => ({
    kind: s.kind ?? '',
    decoration: s.decoration ?? '',
    pattern: s.pattern ?? '',
    extras: s.extras ?? '',
  });
  const rules = o.rules.map((r) => {
    const out: Record<string, unknown> = {};
    if (r.template) out['template'] = r.template;
    if (r.params && Object.keys(r.params).length) out['params'] = sortedKeys(r.params);
    if (r.tag_selectors?.length) out['tag_selectors'] = r.tag_selectors.map(selectorJson);
    const scopes = Object.entries(r.scope_selectors ?? {});
    if (scopes.length)
      out['scope_selectors'] = sortedKeys(
        Object.fromEntries(scopes.map(([k, v]) => [k, v === null ? null : v.map(selectorJson)])),
      );
    return out;
  });
  const name = o.repository.slice(o.repository.indexOf('/') + 1);
  return {
    total: o.total,
    retained: o.retained,
    ...(o.hostname ? { harbor_hostname: o.hostname } : {}),
    ...(o.projectName ? { project_name: o.projectName } : {}),
    ...(o.policyId ? { retention_policy_id: o.policyId } : {}),
    ...(rules.length ? { retention_rule: rules } : {}),
    result: 'SUCCESS',
    ...(o.deleted.length
      ? {
          deleted_artifact: o.deleted.map((d) => ({
            type: 'image',
            status: 'SUCCESS',
            name_tag: d.tags.length ? `${name}:${d.tags[0]}` : `${name}@${d.digest}`,
            references: null,
          })),
        }
      : {}),
  };
}

/** One side of a replication, as Harbor's ReplicationResource encodes (empty optional members left out). */
export interface ReplicationSide {
  registry_name?: string;
  registry_type: string;
  endpoint: string;
  provider?: string;
  namespace?: string;
}

/** What REPLICATION reports of one task (Harbor's `event_data.replication`). */
export interface ReplicationOutcome {
  hostname: string;
  status: 'Success' | 'Error';
  description: string;
  artifactType: string;
  authenticationType: string;
  override: boolean;
  trigger: string;
  executionTimestamp: number;
  src: ReplicationSide;
  dest: ReplicationSide;
  nameAndTag: string;
  references: string[];
  executionId: number;
  taskId: number;
}

/** Harbor's `Replication` in its field order, empty members left out (omitempty), as Go encodes it. */
export function replicationData(o: ReplicationOutcome): Record<string, unknown> {
  const side = (r: ReplicationSide) => ({
    ...(r.registry_name ? { registry_name: r.registry_name } : {}),
    registry_type: r.registry_type,
    endpoint: r.endpoint,
    ...(r.provider ? { provider: r.provider } : {}),
    ...(r.namespace ? { namespace: r.namespace } : {}),
  });
  const artifact = [
    { type: o.artifactType, status: o.status, name_tag: o.nameAndTag, references: o.references },
  ];
  return {
    ...(o.hostname ? { harbor_hostname: o.hostname } : {}),
    job_status: o.status,
    ...(o.description ? { description: o.description } : {}),
    ...(o.artifactType ? { artifact_type: o.artifactType } : {}),
    ...(o.authenticationType ? { authentication_type: o.authenticationType } : {}),
    ...(o.override ? { override_mode: true } : {}),
    ...(o.trigger ? { trigger_type: o.trigger } : {}),
    ...(o.executionTimestamp ? { execution_timestamp: o.executionTimestamp } : {}),
    src_resource: side(o.src),
    dest_resource: side(o.dest),
    ...(o.status === 'Success' ? { successful_artifact: artifact } : { failed_artifact: artifact }),
    ...(o.executionId ? { execution_id: o.executionId } : {}),
    ...(o.taskId ? { task_id: o.taskId } : {}),
  };
}

/** Berth's namespace of name-based UUIDs for CloudEvents `id` and `requestid`. */
const uuidNamespace = Buffer.from('5c0f3d0e8a6b4e21b1f4d2a9c7e61b38', 'hex');

/**
 * A name-based (version 5) UUID: the same name gives the same UUID, so a delivery rendered again after
 * a crash carries the `id` its first try carried.
 */
export function nameUuid(name: string): string {
  const h = createHash('sha1').update(uuidNamespace).update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
