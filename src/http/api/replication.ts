import { z } from 'zod';
import { policyFields } from '../../db/repos/replication.js';
import type { JobStatus } from '../../db/tables.js';
import { AppError } from '../../lib/errors.js';
import { offsetOf } from '../../lib/query.js';
import { policyInput } from '../../services/replication/policies.js';
import type { Replication } from '../../services/replication/replication.js';
import { authorize, type Can } from './access.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { listParams, q, type ApiRouter } from './router.js';

const system = (resource: string) => ({ scope: 'system' as const, resource });
const idParams = z.object({ id: q.id });
const pageParams = { page: listParams.page, page_size: listParams.page_size, sort: listParams.sort };
/** Harbor's task status words → job statuses. */
const statusFilter: Record<string, JobStatus> = {
  Pending: 'pending',
  InProgress: 'running',
  Succeed: 'succeeded',
  Failed: 'failed',
  Stopped: 'stopped',
};

/** Harbor's `replication` swagger tag: policies, executions, tasks and task logs (system administrators). */
export function replicationRoutes(api: ApiRouter, deps: { can: Can; replication: Replication }): void {
  const { policies, executions, views } = deps.replication;
  const tag = 'replication';

  api.add({
    operationId: 'createReplicationPolicy',
    tag,
    method: 'POST',
    path: '/replication/policies',
    summary: 'Create a replication policy',
    body: policyInput,
    status: 201,
    headers: ['Location'],
    async handler({ body }, request, reply) {
      await authorize(request, deps.can, 'create', system('replication-policy'));
      const policy = await policies.create(body);
      reply.header('location', `/api/v2.0/replication/policies/${policy.id}`);
      return undefined;
    },
  });

  api.add({
    operationId: 'listReplicationPolicies',
    tag,
    method: 'GET',
    path: '/replication/policies',
    summary: 'List replication policies',
    query: z.object({ ...listParams, name: z.string().optional() }),
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    async handler({ query }, request, reply) {
      await authorize(request, deps.can, 'list', system('replication-policy'));
      const list = parseListQuery(query, policyFields);
      // Harbor's older `name` parameter is a substring match, like q=name=~….
      if (query.name && !list.keywords.name) list.keywords.name = { kind: 'fuzzy', value: query.name };
      const page = await policies.list(list);
      setPageHeaders(request, reply, page.total, list);
      return Promise.all(page.items.map((p) => policies.view(p)));
    },
  });

  api.add({
    operationId: 'getReplicationPolicy',
    tag,
    method: 'GET',
    path: '/replication/policies/{id}',
    summary: 'Get the specific replication policy',
    params: idParams,
    status: 200,
    async handler({ params }, request) {
      await authorize(request, deps.can, 'read', system('replication-policy'));
      return policies.view(await policies.get(params.id));
    },
  });

  api.add({
    operationId: 'updateReplicationPolicy',
    tag,
    method: 'PUT',
    path: '/replication/policies/{id}',
    summary: 'Update the replication policy',
    params: idParams,
    body: policyInput,
    status: 200,
    async handler({ params, body }, request) {
      await authorize(request, deps.can, 'update', system('replication-policy'));
      await policies.update(params.id, body);
      return undefined;
    },
  });

  api.add({
    operationId: 'deleteReplicationPolicy',
    tag,
    method: 'DELETE',
    path: '/replication/policies/{id}',
    summary: 'Delete the specific replication policy',
    params: idParams,
    status: 200,
    async handler({ params }, request) {
      await authorize(request, deps.can, 'delete', system('replication-policy'));
      await policies.delete(params.id);
      return undefined;
    },
  });

  api.add({
    operationId: 'startReplication',
    tag,
    method: 'POST',
    path: '/replication/executions',
    summary: 'Start one replication execution',
    body: z.object({ policy_id: z.number().int().min(1) }).strict(),
    status: 201,
    headers: ['Location'],
    async handler({ body }, request, reply) {
      await authorize(request, deps.can, 'create', system('replication'));
      const id = await executions.start(body.policy_id, 'MANUAL');
      reply.header('location', `/api/v2.0/replication/executions/${id}`);
      return undefined;
    },
  });

  api.add({
    operationId: 'listReplicationExecutions',
    tag,
    method: 'GET',
    path: '/replication/executions',
    summary: 'List replication executions',
    query: z.object({
      ...pageParams,
      policy_id: q.id.optional(),
      status: z.string().optional(),
      trigger: z.enum(['MANUAL', 'SCHEDULE', 'EVENT_BASED']).optional(),
    }),
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    async handler({ query }, request, reply) {
      await authorize(request, deps.can, 'list', system('replication'));
      const list = parseListQuery(query, {});
      const { items, total } = await views.list({
        policyId: query.policy_id,
        trigger: query.trigger,
        offset: offsetOf(list),
        limit: list.pageSize,
      });
      setPageHeaders(request, reply, total, list);
      return query.status ? items.filter((e) => e.status === query.status) : items;
    },
  });

  api.add({
    operationId: 'getReplicationExecution',
    tag,
    method: 'GET',
    path: '/replication/executions/{id}',
    summary: 'Get the specific replication execution',
    params: idParams,
    status: 200,
    async handler({ params }, request) {
      await authorize(request, deps.can, 'read', system('replication'));
      return views.get(params.id);
    },
  });

  api.add({
    operationId: 'stopReplication',
    tag,
    method: 'PUT',
    path: '/replication/executions/{id}',
    summary: 'Stop the specific replication execution',
    params: idParams,
    status: 200,
    async handler({ params }, request) {
      await authorize(request, deps.can, 'update', system('replication'));
      await executions.stop(params.id);
      return undefined;
    },
  });

  api.add({
    operationId: 'listReplicationTasks',
    tag,
    method: 'GET',
    path: '/replication/executions/{id}/tasks',
    summary: 'List replication tasks for a specific execution',
    params: idParams,
    query: z.object({ ...pageParams, status: z.string().optional(), resource_type: z.string().optional() }),
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    async handler({ params, query }, request, reply) {
      await authorize(request, deps.can, 'list', system('replication'));
      let status: JobStatus | undefined;
      if (query.status) {
        status = statusFilter[query.status];
        if (!status) {
          throw new AppError(
            'BAD_REQUEST',
            `unknown task status "${query.status}"; use ${Object.keys(statusFilter).join(', ')}`,
          );
        }
      }
      const list = parseListQuery(query, {});
      const { items, total } = await views.tasks(params.id, {
        offset: offsetOf(list),
        limit: list.pageSize,
        status,
      });
      setPageHeaders(request, reply, total, list);
      return items;
    },
  });

  api.add({
    operationId: 'getReplicationLog',
    tag,
    method: 'GET',
    path: '/replication/executions/{id}/tasks/{task_id}/log',
    summary: 'Get the log of the specific replication task',
    params: z.object({ id: q.id, task_id: q.id }),
    status: 200,
    async handler({ params }, request) {
      await authorize(request, deps.can, 'read', system('replication'));
      return views.taskLog(params.id, params.task_id);
    },
  });
}
