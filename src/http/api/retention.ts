import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../lib/errors.js';
import { offsetOf } from '../../lib/query.js';
import { operatorOf } from '../../services/access/subject.js';
import { checkPolicy, retentionPolicyInput } from '../../services/policies/retention/policy.js';
import { retentionMetadata } from '../../services/policies/retention/retention-policies.js';
import { requireAuthenticated, subjectOf } from './access.js';
import type { ApiDeps } from './deps.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { projectFor } from './project.js';
import { listParams, q, type ApiRouter } from './router.js';

const tag = 'Retention';
const idParams = z.object({ id: q.id });
const execParams = idParams.extend({ eid: q.id });
const pageQuery = z.object({ page: listParams.page, page_size: listParams.page_size });
const pageOf = (query: z.infer<typeof pageQuery>) => {
  const list = parseListQuery(query, {});
  return { ...list, offset: offsetOf(list), limit: list.pageSize };
};

/** Harbor's `Retention` swagger tag: per-project tag retention policies, their executions, tasks and logs. */
export function retentionRoutes(api: ApiRouter, deps: ApiDeps): void {
  const { policies, executions } = deps.retention;

  /** The policy's project, once the caller may do `action` on its tag retention. */
  const policyAccess = async (request: FastifyRequest, id: number, action: string) => {
    const policy = await policies.get(id);
    await projectFor(deps, request, String(policy.scope.ref), action, 'tag-retention', false);
    return policy;
  };

  api.add({
    operationId: 'getRentenitionMetadata',
    tag,
    method: 'GET',
    path: '/retentions/metadatas',
    summary: 'Get Retention Metadatas',
    status: 200,
    async handler(_input, request) {
      await requireAuthenticated(request, deps.can);
      return retentionMetadata();
    },
  });

  api.add({
    operationId: 'createRetention',
    tag,
    method: 'POST',
    path: '/retentions',
    summary: 'Create Retention Policy',
    body: retentionPolicyInput,
    status: 201,
    headers: ['Location'],
    async handler({ body }, request, reply) {
      checkPolicy(body);
      const projectId = await policies.projectOf(body);
      await projectFor(deps, request, String(projectId), 'create', 'tag-retention', false);
      const id = await policies.create(body);
      reply.header('location', `/api/v2.0/retentions/${id}`);
      return undefined;
    },
  });

  api.add({
    operationId: 'getRetention',
    tag,
    method: 'GET',
    path: '/retentions/{id}',
    summary: 'Get Retention Policy',
    params: idParams,
    status: 200,
    handler: ({ params }, request) => policyAccess(request, params.id, 'read'),
  });

  api.add({
    operationId: 'updateRetention',
    tag,
    method: 'PUT',
    path: '/retentions/{id}',
    summary: 'Update Retention Policy',
    params: idParams,
    body: retentionPolicyInput,
    status: 200,
    async handler({ params, body }, request) {
      await policyAccess(request, params.id, 'update');
      await policies.update(params.id, body);
      return undefined;
    },
  });

  api.add({
    operationId: 'deleteRetention',
    tag,
    method: 'DELETE',
    path: '/retentions/{id}',
    summary: 'Delete Retention Policy',
    params: idParams,
    status: 200,
    async handler({ params }, request) {
      await policyAccess(request, params.id, 'delete');
      await policies.delete(params.id);
      return undefined;
    },
  });

  api.add({
    operationId: 'triggerRetentionExecution',
    tag,
    method: 'POST',
    path: '/retentions/{id}/executions',
    summary: 'Trigger a Retention Execution; with dry_run nothing is removed',
    params: idParams,
    body: z.object({ dry_run: z.boolean().optional() }),
    status: 201,
    headers: ['Location'],
    async handler({ params, body }, request, reply) {
      await policyAccess(request, params.id, 'update');
      const eid = await executions.trigger(
        params.id,
        'MANUAL',
        body.dry_run ?? false,
        operatorOf(subjectOf(request)),
      );
      reply.header('location', `/api/v2.0/retentions/${params.id}/executions/${eid}`);
      return undefined;
    },
  });

  api.add({
    operationId: 'listRetentionExecutions',
    tag,
    method: 'GET',
    path: '/retentions/{id}/executions',
    summary: 'Get Retention executions',
    params: idParams,
    query: pageQuery,
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    async handler({ params, query }, request, reply) {
      await policyAccess(request, params.id, 'list');
      const page = pageOf(query);
      const { items, total } = await executions.list(params.id, page);
      setPageHeaders(request, reply, total, page);
      return items;
    },
  });

  api.add({
    operationId: 'operateRetentionExecution',
    tag,
    method: 'PATCH',
    path: '/retentions/{id}/executions/{eid}',
    summary: 'Stop a Retention execution',
    params: execParams,
    body: z.object({ action: z.string().optional() }),
    status: 200,
    async handler({ params, body }, request) {
      if (body.action !== 'stop') throw new AppError('BAD_REQUEST', "action: action should be 'stop'");
      await policyAccess(request, params.id, 'update');
      await executions.stop(params.id, params.eid);
      return undefined;
    },
  });

  api.add({
    operationId: 'listRetentionTasks',
    tag,
    method: 'GET',
    path: '/retentions/{id}/executions/{eid}/tasks',
    summary: 'Get Retention tasks, one per repository',
    params: execParams,
    query: pageQuery,
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    async handler({ params, query }, request, reply) {
      await policyAccess(request, params.id, 'list');
      const page = pageOf(query);
      const { items, total } = await executions.tasks(params.id, params.eid, page);
      setPageHeaders(request, reply, total, page);
      return items;
    },
  });

  api.add({
    operationId: 'getRetentionTaskLog',
    tag,
    method: 'GET',
    path: '/retentions/{id}/executions/{eid}/tasks/{tid}',
    summary: 'Get Retention job task log: every artifact retained or removed and the rule that decided',
    params: execParams.extend({ tid: q.id }),
    status: 200,
    async handler({ params }, request) {
      await policyAccess(request, params.id, 'read');
      return executions.taskLog(params.id, params.eid, params.tid);
    },
  });
}
