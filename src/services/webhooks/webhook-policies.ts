import { z } from 'zod';
import type { MetaStore } from '../../db/store.js';
import type { NotificationPolicyRow, ProjectRow } from '../../db/tables.js';
import { AppError } from '../../lib/errors.js';
import type { Clock } from '../../lib/clock.js';
import type { ListQuery, Page } from '../../lib/query.js';
import { operatorName, type RequestContext } from '../context.js';
import {
  notifyTypes,
  payloadFormats,
  webhookEventTypes,
  type NotifyType,
  type PayloadFormat,
  type WebhookTarget,
} from './payloads.js';

/** A policy as the API sends it; unknown fields are ignored, as Harbor's JSON copy ignores them. */
export const webhookPolicyInput = z.object({
  name: z.string().max(256).optional(),
  description: z.string().max(1024).optional(),
  enabled: z.boolean().optional(),
  event_types: z.array(z.string()).max(64).nullish(),
  targets: z
    .array(
      z.object({
        type: z.string().max(32).optional(),
        address: z.string().max(2048).optional(),
        auth_header: z.string().max(4096).optional(),
        skip_cert_verify: z.boolean().optional(),
        payload_format: z.string().max(32).optional(),
      }),
    )
    .max(16)
    .nullish(),
  creator: z.string().max(256).optional(),
});
export type WebhookPolicyInput = z.infer<typeof webhookPolicyInput>;

/** A stored policy with its JSON columns read. */
export interface WebhookPolicy {
  id: number;
  projectId: number;
  name: string;
  description: string;
  targets: WebhookTarget[];
  eventTypes: string[];
  creator: string;
  enabled: boolean;
  creationTime: string;
  updateTime: string;
}

export function readPolicy(row: NotificationPolicyRow): WebhookPolicy {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    description: row.description,
    targets: JSON.parse(row.targets) as WebhookTarget[],
    eventTypes: JSON.parse(row.event_types) as string[],
    creator: row.creator,
    enabled: row.enabled === 1,
    creationTime: row.creation_time,
    updateTime: row.update_time,
  };
}

/**
 * Harbor's checks on a policy, in its order and words: event types, then targets. An address is kept
 * as scheme://host/path only (Harbor drops the query against SSRF tricks); `http` targets without a
 * payload format get `Default`, and `slack` targets may not name one.
 */
export function validatePolicy(input: WebhookPolicyInput): {
  eventTypes: string[];
  targets: WebhookTarget[];
} {
  const name = input.name ?? '';
  const eventTypes = input.event_types ?? [];
  if (eventTypes.length === 0) throw new AppError('BAD_REQUEST', 'empty event type');
  for (const t of eventTypes)
    if (!(webhookEventTypes as readonly string[]).includes(t))
      throw new AppError('BAD_REQUEST', `unsupported event type ${t}`);
  const raw = input.targets ?? [];
  if (raw.length === 0) throw new AppError('BAD_REQUEST', `empty notification target with policy ${name}`);
  const targets = raw.map((t): WebhookTarget => {
    const url = parseEndpoint(t.address ?? '');
    const type = t.type ?? '';
    if (!(notifyTypes as readonly string[]).includes(type))
      throw new AppError('BAD_REQUEST', `unsupported target type ${type} with policy ${name}`);
    const format = t.payload_format ?? '';
    if (format && type === 'slack')
      throw new AppError('BAD_REQUEST', 'set payload format is not allowed for slack');
    if (format && !(payloadFormats as readonly string[]).includes(format))
      throw new AppError('BAD_REQUEST', `unsupported payload format type: ${format}`);
    return {
      type: type as NotifyType,
      address: url,
      ...(t.auth_header ? { auth_header: t.auth_header } : {}),
      skip_cert_verify: t.skip_cert_verify ?? false,
      ...(type === 'http' ? { payload_format: (format || 'Default') as PayloadFormat } : {}),
    };
  });
  return { eventTypes, targets };
}

/** Harbor's ParseEndpoint: trims, defaults to http://, accepts http and https only. */
function parseEndpoint(address: string): string {
  let endpoint = address.trim().replace(/\/+$/, '');
  if (endpoint === '') throw new AppError('BAD_REQUEST', 'empty URL');
  const i = endpoint.indexOf('://');
  if (i >= 0) {
    const scheme = endpoint.slice(0, i);
    if (scheme !== 'http' && scheme !== 'https')
      throw new AppError('BAD_REQUEST', `invalid scheme: ${scheme}`);
  } else endpoint = `http://${endpoint}`;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new AppError('BAD_REQUEST', `parse "${endpoint}": invalid URI for request`);
  }
  if (!url.host) throw new AppError('BAD_REQUEST', `parse "${endpoint}": invalid URI for request`);
  // Trailing slashes are gone, so a `/` path is the URL parser's, not the caller's.
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.protocol}//${url.host}${path}`;
}

/** Project webhook policies: Harbor's `webhook` tag, policy half. */
export class WebhookPolicies {
  constructor(private readonly d: { store: Pick<MetaStore, 'notificationPolicies'>; clock: Clock }) {}

  async list(_ctx: RequestContext, project: ProjectRow, query: ListQuery): Promise<Page<WebhookPolicy>> {
    const page = await this.d.store.notificationPolicies.list(project.id, query);
    return { total: page.total, items: page.items.map(readPolicy) };
  }

  async all(project: ProjectRow): Promise<WebhookPolicy[]> {
    return (await this.d.store.notificationPolicies.ofProject(project.id)).map(readPolicy);
  }

  async get(project: ProjectRow, id: number): Promise<WebhookPolicy> {
    const row = await this.d.store.notificationPolicies.byId(id);
    if (!row) throw new AppError('NOT_FOUND', `notificationPolicy ${id} not found`);
    if (row.project_id !== project.id)
      throw new AppError('NOT_FOUND', `project id:${project.id}, webhook policy id: ${id} not found`);
    return readPolicy(row);
  }

  async create(ctx: RequestContext, project: ProjectRow, input: WebhookPolicyInput): Promise<number> {
    const { eventTypes, targets } = validatePolicy(input);
    const name = input.name ?? '';
    if (await this.d.store.notificationPolicies.byName(project.id, name))
      throw new AppError('CONFLICT', `notification policy named ${name} already exists`);
    return this.d.store.notificationPolicies.create(
      project.id,
      this.values(input, eventTypes, targets),
      input.creator || operatorName(ctx.actor) || '',
      this.d.clock.now().toISOString(),
    );
  }

  async update(
    _ctx: RequestContext,
    project: ProjectRow,
    id: number,
    input: WebhookPolicyInput,
  ): Promise<void> {
    await this.get(project, id);
    const { eventTypes, targets } = validatePolicy(input);
    const name = input.name ?? '';
    const same = await this.d.store.notificationPolicies.byName(project.id, name);
    if (same && same.id !== id)
      throw new AppError('CONFLICT', `notification policy named ${name} already exists`);
    await this.d.store.notificationPolicies.update(
      id,
      this.values(input, eventTypes, targets),
      this.d.clock.now().toISOString(),
    );
  }

  async delete(_ctx: RequestContext, project: ProjectRow, id: number): Promise<void> {
    await this.get(project, id);
    await this.d.store.notificationPolicies.delete(id);
  }

  private values(input: WebhookPolicyInput, eventTypes: string[], targets: WebhookTarget[]) {
    return {
      name: input.name ?? '',
      description: input.description ?? '',
      eventTypes: JSON.stringify(eventTypes),
      targets: JSON.stringify(targets),
      // Go's zero value: a policy sent without `enabled` is stored disabled, as Harbor stores it.
      enabled: input.enabled ?? false,
    };
  }
}
