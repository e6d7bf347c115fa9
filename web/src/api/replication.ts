import { queryOptions } from '@tanstack/react-query';
import { api, apiCreate, apiPage } from './client';
import { listSource } from './hooks';
import type { ReplicationExecution, ReplicationPolicy, ReplicationTask } from './types';

/** Query keys of replication: rules (policies), and executions with their tasks and task logs. */
export const replicationKeys = {
  policies: () => ['replication', 'policies'] as const,
  policyList: () => [...replicationKeys.policies(), 'list'] as const,
  executions: () => ['replication', 'executions'] as const,
  executionList: (policyId: number | undefined) =>
    [...replicationKeys.executions(), 'list', policyId ?? 'all'] as const,
  tasks: (executionId: number) => [...replicationKeys.executions(), executionId, 'tasks'] as const,
  taskLog: (executionId: number, taskId: number | undefined) =>
    [...replicationKeys.tasks(executionId), taskId, 'log'] as const,
};

export function policyList() {
  return listSource<ReplicationPolicy>(replicationKeys.policyList(), '/replication/policies');
}

/**
 * Executions of one rule or of all. Berth answers them newest first and declares no sort key on this list
 * (a `sort` it does not know is a 400), so none is sent.
 */
export function executionList(policyId: number | undefined) {
  return listSource<ReplicationExecution>(
    replicationKeys.executionList(policyId),
    '/replication/executions',
    { policy_id: policyId },
  );
}

/** An execution's tasks, up to 100 (one per copied artifact). */
export function tasksQuery(executionId: number) {
  return queryOptions({
    queryKey: replicationKeys.tasks(executionId),
    queryFn: () =>
      apiPage<ReplicationTask>(`/replication/executions/${executionId}/tasks`, { query: { page_size: 100 } }),
  });
}

export function taskLogQuery(executionId: number, taskId: number | undefined) {
  return queryOptions({
    queryKey: replicationKeys.taskLog(executionId, taskId),
    queryFn: () => api<string>(`/replication/executions/${executionId}/tasks/${taskId}/log`),
  });
}

/** Creates the rule, or replaces it when `id` is given. */
export function savePolicy(policy: Record<string, unknown>, id?: number): Promise<unknown> {
  return id === undefined
    ? apiCreate('/replication/policies', policy)
    : api(`/replication/policies/${id}`, { method: 'PUT', body: policy });
}

export function deletePolicy(id: number): Promise<unknown> {
  return api(`/replication/policies/${id}`, { method: 'DELETE' });
}

/** Starts a run of the rule; answers the new execution's id (NaN when Berth sent no Location). */
export async function startExecution(policyId: number): Promise<number> {
  return Number(await apiCreate('/replication/executions', { policy_id: policyId }));
}

export function stopExecution(executionId: number): Promise<unknown> {
  return api(`/replication/executions/${executionId}`, { method: 'PUT' });
}
