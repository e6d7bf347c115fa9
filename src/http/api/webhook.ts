import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { notificationPolicyFields, webhookExecutionFields } from '../../db/repos/notification-policies.js';
import type { ProjectRow } from '../../db/tables.js';
import { notifyTypes, payloadFormats, webhookEventTypes } from '../../services/webhooks/payloads.js';
import { executionView, taskView, webhookJobView } from '../../services/webhooks/webhook-deliveries.js';
import { webhookPolicyInput, type WebhookPolicy } from '../../services/webhooks/webhook-policies.js';
import { contextOf } from '../context.js';
import type { ApiDeps } from './deps.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { projectFor } from './project.js';
import { listParams, q, type ApiRouter } from './router.js';

const tag = 'webhook';
const resource = 'notification-policy';
const projectRef = z.object({ project_name_or_id: z.string().min(1).max(255) });
const policyRef = projectRef.extend({ webhook_policy_id: q.id });
const executionRef = policyRef.extend({ execution_id: q.id });
const taskRef = executionRef.extend({ task_id: q.id });

const targetModel = z.object({
  type: z.string(),
  address: z.string(),
  auth_header: z.string().optional(),
  skip_cert_verify: z.boolean(),
  payload_format: z.string().optional(),
});
const policyModel = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string(),
  project_id: z.number().int(),
  targets: z.array(targetModel),
  event_types: z.array(z.string()),
  creator: z.string(),
  creation_time: z.string(),
  update_time: z.string(),
  enabled: z.boolean(),
});

/** Harbor's WebhookPolicy as its API answers it. */
export function renderPolicy(p: WebhookPolicy) {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    project_id: p.projectId,
    targets: p.targets.map((t) => ({
      type: t.type,
      address: t.address,
      ...(t.auth_header ? { auth_header: t.auth_header } : {}),
      skip_cert_verify: t.skip_cert_verify,
      ...(t.payload_format ? { payload_format: t.payload_format } : {}),
    })),
    event_types: p.eventTypes,
    creator: p.creator,
    creation_time: p.creationTime,
    update_time: p.updateTime,
    enabled: p.enabled,
  };
}

/** Harbor's `webhook` and `webhookjob` tags: /projects/{project_name_or_id}/webhook/… */
export function webhookRoutes(api: ApiRouter, deps: ApiDeps): void {
  const { policies, deliveries } = deps.webhooks;
  const project = (request: FastifyRequest, ref: string, action: string) =>
    projectFor(deps, request, ref, action, resource);
  const policyOf = async (request: FastifyRequest, ref: string, id: number, action = 'read') => {
    const p: ProjectRow = await project(request, ref, action);
    return policies.get(p, id);
  };

  api.add({
    operationId: 'ListWebhookPoliciesOfProject',
    tag,
    method: 'GET',
    path: '/projects/{project_name_or_id}/webhook/policies',
    summary: 'List project webhook policies.',
    params: projectRef,
    query: z.object(listParams),
    status: 200,
    response: z.array(policyModel),
    headers: ['X-Total-Count', 'Link'],
    async handler({ params, query }, request, reply) {
      const p = await project(request, params.project_name_or_id, 'list');
      const list = parseListQuery(query, notificationPolicyFields);
      const page = await policies.list(contextOf(request), p, list);
      setPageHeaders(request, reply, page.total, list);
      return page.items.map(renderPolicy);
    },
  });

  api.add({
    operationId: 'CreateWebhookPolicyOfProject',
    tag,
    method: 'POST',
    path: '/projects/{project_name_or_id}/webhook/policies',
    summary: 'Create project webhook policy.',
    params: projectRef,
    body: webhookPolicyInput,
    status: 201,
    headers: ['Location'],
    async handler({ params, body }, request, reply) {
      const p = await project(request, params.project_name_or_id, 'create');
      const id = await policies.create(contextOf(request), p, body);
      reply.header('Location', `${request.url.split('?', 1)[0]!.replace(/\/$/, '')}/${id}`);
      return undefined;
    },
  });

  api.add({
    operationId: 'GetWebhookPolicyOfProject',
    tag,
    method: 'GET',
    path: '/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}',
    summary: 'Get project webhook policy',
    params: policyRef,
    status: 200,
    response: policyModel,
    async handler({ params }, request) {
      return renderPolicy(await policyOf(request, params.project_name_or_id, params.webhook_policy_id));
    },
  });

  api.add({
    operationId: 'UpdateWebhookPolicyOfProject',
    tag,
    method: 'PUT',
    path: '/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}',
    summary: 'Update webhook policy of a project.',
    params: policyRef,
    body: webhookPolicyInput,
    status: 200,
    async handler({ params, body }, request) {
      const p = await project(request, params.project_name_or_id, 'update');
      await policies.update(contextOf(request), p, params.webhook_policy_id, body);
      return undefined;
    },
  });

  api.add({
    operationId: 'DeleteWebhookPolicyOfProject',
    tag,
    method: 'DELETE',
    path: '/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}',
    summary: 'Delete webhook policy of a project',
    params: policyRef,
    status: 200,
    async handler({ params }, request) {
      const p = await project(request, params.project_name_or_id, 'delete');
      await policies.delete(contextOf(request), p, params.webhook_policy_id);
      return undefined;
    },
  });

  api.add({
    operationId: 'ListExecutionsOfWebhookPolicy',
    tag,
    method: 'GET',
    path: '/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}/executions',
    summary: 'List executions for a specific webhook policy',
    params: policyRef,
    query: z.object(listParams),
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    async handler({ params, query }, request, reply) {
      const policy = await policyOf(request, params.project_name_or_id, params.webhook_policy_id);
      const list = parseListQuery(query, webhookExecutionFields);
      const page = await deliveries.executions(policy, list);
      setPageHeaders(request, reply, page.total, list);
      return page.items.map(executionView);
    },
  });

  api.add({
    operationId: 'ListTasksOfWebhookExecution',
    tag,
    method: 'GET',
    path: '/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}/executions/{execution_id}/tasks',
    summary: 'List tasks for a specific webhook execution',
    params: executionRef,
    query: z.object(listParams),
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    async handler({ params, query }, request, reply) {
      const policy = await policyOf(request, params.project_name_or_id, params.webhook_policy_id);
      const list = parseListQuery(query, {});
      const page = await deliveries.tasks(policy, params.execution_id, list);
      setPageHeaders(request, reply, page.total, list);
      return page.items.map(taskView);
    },
  });

  api.add({
    operationId: 'GetLogsOfWebhookTask',
    tag,
    method: 'GET',
    path: '/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}/executions/{execution_id}/tasks/{task_id}/log',
    summary: 'Get logs for a specific webhook task',
    params: taskRef,
    status: 200,
    async handler({ params }, request) {
      const policy = await policyOf(request, params.project_name_or_id, params.webhook_policy_id);
      return deliveries.log(policy, params.execution_id, params.task_id);
    },
  });

  api.add({
    operationId: 'LastTrigger',
    tag,
    method: 'GET',
    path: '/projects/{project_name_or_id}/webhook/lasttrigger',
    summary: 'Get project webhook policy last trigger info',
    params: projectRef,
    status: 200,
    async handler({ params }, request) {
      const p = await project(request, params.project_name_or_id, 'read');
      return deliveries.lastTriggers(await policies.all(p));
    },
  });

  api.add({
    operationId: 'GetSupportedEventTypes',
    tag,
    method: 'GET',
    path: '/projects/{project_name_or_id}/webhook/events',
    summary: 'Get supported event types and notify types.',
    params: projectRef,
    status: 200,
    async handler({ params }, request) {
      await project(request, params.project_name_or_id, 'read');
      return {
        event_type: [...webhookEventTypes],
        notify_type: [...notifyTypes],
        payload_formats: [{ notify_type: 'http', formats: [...payloadFormats] }],
      };
    },
  });

  api.add({
    operationId: 'ListWebhookJobs',
    tag: 'webhookjob',
    method: 'GET',
    path: '/projects/{project_name_or_id}/webhook/jobs',
    summary: 'List project webhook jobs',
    params: projectRef,
    query: z.object({
      ...listParams,
      policy_id: q.id,
      status: z.union([z.string(), z.array(z.string())]).optional(),
    }),
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    async handler({ params, query }, request, reply) {
      const policy = await policyOf(request, params.project_name_or_id, query.policy_id, 'list');
      const list = parseListQuery(query, webhookExecutionFields);
      const status = query.status === undefined ? undefined : [query.status].flat();
      const page = await deliveries.executions(policy, list, status);
      setPageHeaders(request, reply, page.total, list);
      return page.items.map(webhookJobView);
    },
  });

  api.add({
    operationId: 'TestWebhookPolicyOfProject',
    tag: 'webhook (Berth)',
    method: 'POST',
    path: '/projects/{project_name_or_id}/webhook/policies/test',
    summary:
      "Berth's extension (Harbor 1.x had it): sends a test event to each target of the policy in the body, and answers 400 with the first failure",
    params: projectRef,
    body: webhookPolicyInput,
    status: 200,
    async handler({ params, body }, request) {
      const p = await project(request, params.project_name_or_id, 'create');
      await deps.webhooks.test(contextOf(request), p, body);
      return undefined;
    },
  });
}
