import { z } from 'zod';
import {
  preheatExecutionFields,
  preheatPolicyFields,
  preheatTaskFields,
} from '../../db/repos/preheat-policies.js';
import type { PreheatPolicyInput, PolicyView } from '../../services/preheat/preheat-policies.js';
import { maxProjectNameLength } from '../../services/projects/project-service.js';
import type { ApiDeps } from './deps.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { projectFor } from './project.js';
import { listParams, type ApiRouter } from './router.js';

const tag = 'preheat';
const resource = 'preheat-policy';
const projectParams = z.object({ project_name: z.string().min(1).max(maxProjectNameLength) });
const policyParams = projectParams.extend({ preheat_policy_name: z.string().min(1).max(255) });
const executionParams = policyParams.extend({ execution_id: z.coerce.number().int().min(1) });
const taskParams = executionParams.extend({ task_id: z.coerce.number().int().min(1) });
const base = '/projects/{project_name}/preheat/policies';

/** Harbor's PreheatPolicy: filters, trigger and extra_attrs travel as JSON text. */
const policyBody = z.object({
  id: z.number().int().optional(),
  name: z.string().max(255).default(''),
  description: z.string().max(1024).optional(),
  project_id: z.number().int().optional(),
  provider_id: z.number().int().default(0),
  provider_name: z.string().optional(),
  filters: z.string().max(65_536).optional(),
  trigger: z.string().max(4096).optional(),
  enabled: z.boolean().optional(),
  extra_attrs: z.string().max(65_536).optional(),
  creation_time: z.string().optional(),
  update_time: z.string().optional(),
});

function inputOf(b: z.output<typeof policyBody>): PreheatPolicyInput {
  return {
    name: b.name,
    description: b.description,
    providerId: b.provider_id,
    filters: b.filters,
    trigger: b.trigger,
    enabled: b.enabled,
    extraAttrs: b.extra_attrs,
  };
}

function renderPolicy({ row, providerName }: PolicyView) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    project_id: row.project_id,
    provider_id: row.provider_id,
    provider_name: providerName,
    filters: row.filters,
    trigger: row.trigger,
    enabled: row.enabled === 1,
    extra_attrs: row.extra_attrs,
    creation_time: row.creation_time,
    update_time: row.update_time,
  };
}

/** Harbor's `preheat` tag, policy half: a project's preheat policies, their runs, tasks and logs. */
export function preheatPolicyRoutes(api: ApiRouter, deps: ApiDeps): void {
  const { policies, runs, executions } = deps.preheat;
  const project = (request: Parameters<typeof projectFor>[1], name: string, action: string) =>
    projectFor(deps, request, name, action, resource, true);

  api.add({
    operationId: 'CreatePolicy',
    tag,
    method: 'POST',
    path: base,
    summary: 'Create a preheat policy under a project',
    params: projectParams,
    body: policyBody,
    status: 201,
    headers: ['Location'],
    handler: async ({ params, body }, request, reply) => {
      const p = await project(request, params.project_name, 'create');
      const row = await policies.create(p.id, inputOf(body));
      reply.header('Location', `/api/v2.0/projects/${params.project_name}/preheat/policies/${row.name}`);
      return undefined;
    },
  });

  api.add({
    operationId: 'ListPolicies',
    tag,
    method: 'GET',
    path: base,
    summary: 'List preheat policies',
    params: projectParams,
    query: z.object(listParams),
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    handler: async ({ params, query }, request, reply) => {
      const p = await project(request, params.project_name, 'list');
      const list = parseListQuery(query, preheatPolicyFields);
      const page = await policies.list(p.id, list);
      setPageHeaders(request, reply, page.total, list);
      return page.items.map(renderPolicy);
    },
  });

  api.add({
    operationId: 'GetPolicy',
    tag,
    method: 'GET',
    path: `${base}/{preheat_policy_name}`,
    summary: 'Get a preheat policy',
    params: policyParams,
    status: 200,
    handler: async ({ params }, request) => {
      const p = await project(request, params.project_name, 'read');
      return renderPolicy(await policies.view(p.id, params.preheat_policy_name));
    },
  });

  api.add({
    operationId: 'UpdatePolicy',
    tag,
    method: 'PUT',
    path: `${base}/{preheat_policy_name}`,
    summary: 'Update preheat policy',
    params: policyParams,
    body: policyBody,
    status: 200,
    handler: async ({ params, body }, request) => {
      const p = await project(request, params.project_name, 'update');
      await policies.update(p.id, params.preheat_policy_name, inputOf(body));
      return undefined;
    },
  });

  api.add({
    operationId: 'ManualPreheat',
    tag,
    method: 'POST',
    path: `${base}/{preheat_policy_name}`,
    summary: 'Manual preheat',
    params: policyParams,
    body: policyBody.optional(),
    status: 201,
    headers: ['Location'],
    handler: async ({ params }, request, reply) => {
      const p = await project(request, params.project_name, 'read');
      const id = await runs.manual(p.id, params.preheat_policy_name);
      // Harbor's Location, without the /api/v2.0 prefix.
      reply.header(
        'Location',
        `/projects/${params.project_name}/preheat/policies/${params.preheat_policy_name}/executions/${id}`,
      );
      return undefined;
    },
  });

  api.add({
    operationId: 'DeletePolicy',
    tag,
    method: 'DELETE',
    path: `${base}/{preheat_policy_name}`,
    summary: 'Delete a preheat policy',
    params: policyParams,
    status: 200,
    handler: async ({ params }, request) => {
      const p = await project(request, params.project_name, 'delete');
      await policies.delete(p.id, params.preheat_policy_name);
      return undefined;
    },
  });

  api.add({
    operationId: 'ListExecutions',
    tag,
    method: 'GET',
    path: `${base}/{preheat_policy_name}/executions`,
    summary: 'List executions for the given policy',
    params: policyParams,
    query: z.object(listParams),
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    handler: async ({ params, query }, request, reply) => {
      const p = await project(request, params.project_name, 'list');
      const list = parseListQuery(query, preheatExecutionFields);
      const page = await executions.list({ projectId: p.id, policy: params.preheat_policy_name }, list);
      setPageHeaders(request, reply, page.total, list);
      return page.items;
    },
  });

  api.add({
    operationId: 'GetExecution',
    tag,
    method: 'GET',
    path: `${base}/{preheat_policy_name}/executions/{execution_id}`,
    summary: 'Get a execution detail by id',
    params: executionParams,
    status: 200,
    handler: async ({ params }, request) => {
      const p = await project(request, params.project_name, 'read');
      return executions.get({ projectId: p.id, policy: params.preheat_policy_name }, params.execution_id);
    },
  });

  api.add({
    operationId: 'StopExecution',
    tag,
    method: 'PATCH',
    path: `${base}/{preheat_policy_name}/executions/{execution_id}`,
    summary: 'Stop a execution',
    params: executionParams,
    body: z.object({ status: z.string().optional() }).passthrough(),
    status: 200,
    handler: async ({ params, body }, request) => {
      const p = await project(request, params.project_name, 'update');
      await executions.stop(
        { projectId: p.id, policy: params.preheat_policy_name },
        params.execution_id,
        body.status ?? '',
      );
      return undefined;
    },
  });

  api.add({
    operationId: 'ListTasks',
    tag,
    method: 'GET',
    path: `${base}/{preheat_policy_name}/executions/{execution_id}/tasks`,
    summary: 'List all the related tasks for the given execution',
    params: executionParams,
    query: z.object(listParams),
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    handler: async ({ params, query }, request, reply) => {
      const p = await project(request, params.project_name, 'list');
      const list = parseListQuery(query, preheatTaskFields);
      const ref = { projectId: p.id, policy: params.preheat_policy_name };
      const page = await executions.tasks(ref, params.execution_id, list);
      setPageHeaders(request, reply, page.total, list);
      return page.items;
    },
  });

  api.add({
    operationId: 'GetPreheatLog',
    tag,
    method: 'GET',
    path: `${base}/{preheat_policy_name}/executions/{execution_id}/tasks/{task_id}/logs`,
    summary: 'Get the log text stream of the specified task for the given execution',
    params: taskParams,
    status: 200,
    handler: async ({ params }, request) => {
      const p = await project(request, params.project_name, 'read');
      const ref = { projectId: p.id, policy: params.preheat_policy_name };
      return executions.taskLog(ref, params.execution_id, params.task_id);
    },
  });
}
