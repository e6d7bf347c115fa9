import { queryOptions } from '@tanstack/react-query';
import { api, apiCreate } from './client';
import { listSource } from './hooks';

/** One doublestar selector of a retention rule. */
export interface RetentionSelector {
  kind: string;
  decoration: string;
  pattern: string;
  extras?: string;
}

/** Harbor's RetentionRule: what a rule retains, among the repositories and tags its selectors pick. */
export interface RetentionRule {
  id?: number;
  disabled: boolean;
  action: string;
  template: string;
  params: Record<string, number>;
  tag_selectors: RetentionSelector[];
  scope_selectors: { repository?: RetentionSelector[] };
}

/** Harbor's RetentionPolicy: a project's rules (any one retains an artifact) and its cron trigger. */
export interface RetentionPolicy {
  id: number;
  algorithm: string;
  rules: RetentionRule[];
  trigger: { kind: string; settings: { cron?: string }; references?: unknown };
  scope: { level: string; ref: number };
}

export interface RetentionMetadata {
  templates: { rule_template: string; display_text: string; params: { unit: string }[] }[];
}

export interface RetentionExecution {
  id: number;
  policy_id: number;
  start_time: string;
  end_time: string;
  status: string;
  trigger: string;
  dry_run: boolean;
  operator: string;
}

export interface RetentionTask {
  id: number;
  execution_id: number;
  repository: string;
  status: string;
  start_time: string;
  end_time: string;
  total: number;
  retained: number;
}

export const retentionKeys = {
  all: ['retentions'] as const,
  metadata: () => [...retentionKeys.all, 'metadata'] as const,
  policy: (id: number) => [...retentionKeys.all, 'policy', id] as const,
  executions: (id: number) => [...retentionKeys.all, 'executions', id] as const,
  tasks: (id: number, eid: number) => [...retentionKeys.executions(id), eid, 'tasks'] as const,
  log: (id: number, eid: number, tid: number) => [...retentionKeys.tasks(id, eid), tid, 'log'] as const,
};

export function retentionMetadataQuery() {
  return queryOptions({
    queryKey: retentionKeys.metadata(),
    queryFn: () => api<RetentionMetadata>('/retentions/metadatas'),
    staleTime: Infinity,
  });
}

export function retentionPolicyQuery(id: number) {
  return queryOptions({
    queryKey: retentionKeys.policy(id),
    queryFn: () => api<RetentionPolicy>(`/retentions/${id}`),
  });
}

export function retentionExecutionList(id: number) {
  return listSource<RetentionExecution>(retentionKeys.executions(id), `/retentions/${id}/executions`);
}

export function retentionTaskList(id: number, eid: number) {
  return listSource<RetentionTask>(retentionKeys.tasks(id, eid), `/retentions/${id}/executions/${eid}/tasks`);
}

export function retentionTaskLogQuery(id: number, eid: number, tid: number) {
  return queryOptions({
    queryKey: retentionKeys.log(id, eid, tid),
    queryFn: () => api<string>(`/retentions/${id}/executions/${eid}/tasks/${tid}`),
  });
}

/**
 * Saves a project's rules and schedule: creates its policy when it has none yet (answering the new id, which
 * the project's `retention_id` then names), or replaces the whole policy as Harbor's PUT does.
 */
export async function saveRetentionPolicy(
  projectId: number,
  policyId: number | undefined,
  rules: RetentionRule[],
  cron: string,
): Promise<number> {
  const body = {
    algorithm: 'or',
    rules,
    trigger: { kind: 'Schedule', settings: { cron }, references: {} },
    scope: { level: 'project', ref: projectId },
  };
  if (policyId !== undefined) {
    await api(`/retentions/${policyId}`, { method: 'PUT', body: { id: policyId, ...body } });
    return policyId;
  }
  const location = await apiCreate('/retentions', body);
  return Number(/(\d+)$/.exec(location ?? '')?.[1]);
}

/** Starts a run (a dry run removes nothing, it only logs what would go). */
export function triggerRetention(id: number, dryRun: boolean): Promise<unknown> {
  return apiCreate(`/retentions/${id}/executions`, { dry_run: dryRun });
}

export function stopRetention(id: number, eid: number): Promise<unknown> {
  return api(`/retentions/${id}/executions/${eid}`, { method: 'PATCH', body: { action: 'stop' } });
}
