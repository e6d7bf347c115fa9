import { queryOptions } from '@tanstack/react-query';
import { api, apiCreate, apiPage } from './client';
import { listSource } from './hooks';

/** One target of a policy, as Harbor's API has it. */
export interface WebhookTarget {
  type: string;
  address: string;
  auth_header?: string;
  skip_cert_verify: boolean;
  payload_format?: string;
}

/** Harbor's WebhookPolicy. */
export interface WebhookPolicy {
  id: number;
  name: string;
  description: string;
  project_id: number;
  targets: WebhookTarget[];
  event_types: string[];
  creator: string;
  creation_time: string;
  update_time: string;
  enabled: boolean;
}

/** One delivery of a policy (Harbor's Execution of vendor WEBHOOK or SLACK). */
export interface WebhookExecution {
  id: number;
  status: string;
  status_message: string;
  trigger: string;
  start_time: string;
  end_time: string;
  vendor_type: string;
  extra_attrs: { event_type?: string };
}

export interface WebhookTask {
  id: number;
  execution_id: number;
  status: string;
  status_message: string;
  run_count: number;
  start_time: string;
  end_time: string;
}

export interface WebhookLastTrigger {
  policy_name: string;
  event_type: string;
  enabled: boolean;
  creation_time: string;
  last_trigger_time: string;
}

export interface WebhookEventTypes {
  event_type: string[];
  notify_type: string[];
  payload_formats: { notify_type: string; formats: string[] }[];
}

/** Query keys of a project's webhooks: policies, their executions, tasks and logs, last triggers. */
export const webhookKeys = {
  all: (projectId: number) => ['webhooks', projectId] as const,
  policyList: (projectId: number) => [...webhookKeys.all(projectId), 'policies'] as const,
  events: (projectId: number) => [...webhookKeys.all(projectId), 'events'] as const,
  lastTrigger: (projectId: number) => [...webhookKeys.all(projectId), 'lasttrigger'] as const,
  executions: (projectId: number, policyId: number) =>
    [...webhookKeys.all(projectId), 'executions', policyId] as const,
  tasks: (projectId: number, policyId: number, executionId: number) =>
    [...webhookKeys.executions(projectId, policyId), executionId, 'tasks'] as const,
  taskLog: (projectId: number, policyId: number, executionId: number, taskId: number | undefined) =>
    [...webhookKeys.tasks(projectId, policyId, executionId), taskId, 'log'] as const,
};

const base = (projectId: number) => `/projects/${projectId}/webhook`;
const policyPath = (projectId: number, policyId: number) => `${base(projectId)}/policies/${policyId}`;

export function webhookPolicyList(projectId: number) {
  return listSource<WebhookPolicy>(webhookKeys.policyList(projectId), `${base(projectId)}/policies`);
}

/** A policy's deliveries, newest first. */
export function webhookExecutionList(projectId: number, policyId: number) {
  return listSource<WebhookExecution>(
    webhookKeys.executions(projectId, policyId),
    `${policyPath(projectId, policyId)}/executions`,
  );
}

export function webhookTasksQuery(projectId: number, policyId: number, executionId: number) {
  return queryOptions({
    queryKey: webhookKeys.tasks(projectId, policyId, executionId),
    queryFn: () =>
      apiPage<WebhookTask>(`${policyPath(projectId, policyId)}/executions/${executionId}/tasks`, {
        query: { page_size: 100 },
      }),
  });
}

export function webhookTaskLogQuery(
  projectId: number,
  policyId: number,
  executionId: number,
  taskId: number | undefined,
) {
  return queryOptions({
    queryKey: webhookKeys.taskLog(projectId, policyId, executionId, taskId),
    queryFn: () =>
      api<string>(`${policyPath(projectId, policyId)}/executions/${executionId}/tasks/${taskId}/log`),
  });
}

/** The event types, notify types and payload formats Berth offers (the dialog's choices). */
export function webhookEventsQuery(projectId: number) {
  return queryOptions({
    queryKey: webhookKeys.events(projectId),
    queryFn: () => api<WebhookEventTypes>(`${base(projectId)}/events`),
    staleTime: Infinity,
  });
}

export function webhookLastTriggerQuery(projectId: number) {
  return queryOptions({
    queryKey: webhookKeys.lastTrigger(projectId),
    queryFn: () => api<WebhookLastTrigger[]>(`${base(projectId)}/lasttrigger`),
  });
}

/** What the dialog edits: a policy with its one target. */
export interface WebhookPolicyFields {
  name: string;
  description: string;
  enabled: boolean;
  event_types: string[];
  notifyType: string;
  payloadFormat: string;
  address: string;
  authHeader: string;
  skipCertVerify: boolean;
}

export function webhookFieldsOf(p: WebhookPolicy | null, events: string[]): WebhookPolicyFields {
  const t = p?.targets[0];
  return {
    name: p?.name ?? '',
    description: p?.description ?? '',
    enabled: p?.enabled ?? true,
    event_types: p?.event_types ?? events,
    notifyType: t?.type ?? 'http',
    payloadFormat: t?.payload_format ?? 'Default',
    address: t?.address ?? '',
    authHeader: t?.auth_header ?? '',
    skipCertVerify: t?.skip_cert_verify ?? false,
  };
}

/** Harbor's portal body: one target; Slack has no auth header and no payload format choice. */
export function webhookPolicyBody(f: WebhookPolicyFields) {
  const http = f.notifyType === 'http';
  return {
    name: f.name.trim(),
    description: f.description,
    enabled: f.enabled,
    event_types: f.event_types,
    targets: [
      {
        type: f.notifyType,
        address: f.address.trim(),
        skip_cert_verify: f.skipCertVerify,
        ...(http && f.authHeader ? { auth_header: f.authHeader } : {}),
        ...(http ? { payload_format: f.payloadFormat } : {}),
      },
    ],
  };
}

/** Creates the policy, or replaces it when `id` is given (Harbor's PUT takes the whole policy). */
export function saveWebhookPolicy(projectId: number, f: WebhookPolicyFields, id?: number): Promise<unknown> {
  return id === undefined
    ? apiCreate(`${base(projectId)}/policies`, webhookPolicyBody(f))
    : api(policyPath(projectId, id), { method: 'PUT', body: webhookPolicyBody(f) });
}

/** Enables or disables a policy, sending it back whole as Harbor's portal does. */
export function setWebhookPolicyEnabled(projectId: number, p: WebhookPolicy, enabled: boolean) {
  const { id, name, description, targets, event_types } = p;
  return api(policyPath(projectId, id), {
    method: 'PUT',
    body: { name, description, targets, event_types, enabled },
  });
}

export function deleteWebhookPolicy(projectId: number, id: number): Promise<unknown> {
  return api(policyPath(projectId, id), { method: 'DELETE' });
}

/** Sends a test event to the dialog's target; Berth answers 400 with the receiver's failure. */
export function testWebhookPolicy(projectId: number, f: WebhookPolicyFields): Promise<unknown> {
  return api(`${base(projectId)}/policies/test`, { method: 'POST', body: webhookPolicyBody(f) });
}
