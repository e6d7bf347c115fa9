import { queryOptions } from '@tanstack/react-query';
import { api, apiCreate, apiPage } from './client';
import { listSource } from './hooks';

/** A P2P provider instance (Harbor's Instance; credentials are never read back). */
export interface PreheatInstance {
  id: number;
  name: string;
  description: string;
  vendor: string;
  endpoint: string;
  auth_mode: string;
  enabled: boolean;
  default: boolean;
  insecure: boolean;
  setup_timestamp: number;
  /** Harbor sends `Unknown`: health is known only by pinging. */
  status?: string;
}

export interface PreheatProvider {
  id: string;
  name: string;
  version: string;
}

/** Harbor's PreheatPolicy: filters and trigger are JSON text. */
export interface PreheatPolicy {
  id: number;
  name: string;
  description: string;
  project_id: number;
  provider_id: number;
  provider_name: string;
  filters: string;
  trigger: string;
  enabled: boolean;
  extra_attrs: string;
  creation_time: string;
  update_time: string;
}

export interface PreheatExecution {
  id: number;
  status: string;
  status_message: string;
  trigger: string;
  start_time: string;
  end_time: string;
  metrics: { task_count: number; success_task_count: number; error_task_count: number };
}

export interface PreheatTask {
  id: number;
  status: string;
  run_count: number;
  start_time: string;
  end_time: string;
  extra_attrs: { artifact: string; digest: string; kind: string };
}

/** Query keys: the instances (system), and one project's policies, runs, tasks and logs. */
export const preheatKeys = {
  instances: ['preheat-instances'] as const,
  instanceList: () => [...preheatKeys.instances, 'list'] as const,
  providers: () => [...preheatKeys.instances, 'providers'] as const,
  all: (project: string) => ['preheat', project] as const,
  policies: (project: string) => [...preheatKeys.all(project), 'policies'] as const,
  projectProviders: (project: string) => [...preheatKeys.all(project), 'providers'] as const,
  executions: (project: string, policy: string) =>
    [...preheatKeys.all(project), 'executions', policy] as const,
  tasks: (project: string, policy: string, execution: number) =>
    [...preheatKeys.executions(project, policy), execution, 'tasks'] as const,
  taskLog: (project: string, policy: string, execution: number, task: number | undefined) =>
    [...preheatKeys.tasks(project, policy, execution), task, 'log'] as const,
};

const instancesPath = '/p2p/preheat/instances';
const policiesPath = (project: string) => `/projects/${encodeURIComponent(project)}/preheat/policies`;
const policyPath = (project: string, policy: string) =>
  `${policiesPath(project)}/${encodeURIComponent(policy)}`;

export function instanceList() {
  return listSource<PreheatInstance>(preheatKeys.instanceList(), instancesPath);
}

export function providersQuery() {
  return queryOptions({
    queryKey: preheatKeys.providers(),
    queryFn: () => api<PreheatProvider[]>('/p2p/preheat/providers'),
    staleTime: Infinity,
  });
}

/** The instances a project's policy may use. */
export function projectProvidersQuery(project: string) {
  return queryOptions({
    queryKey: preheatKeys.projectProviders(project),
    queryFn: () =>
      api<{ id: number; provider: string; enabled: boolean; default: boolean }[]>(
        `/projects/${encodeURIComponent(project)}/preheat/providers`,
      ),
  });
}

/** What the instance dialog sends (Harbor's Instance). */
export interface InstanceFields {
  name: string;
  description: string;
  vendor: string;
  endpoint: string;
  auth_mode: string;
  auth_info?: Record<string, string>;
  enabled: boolean;
  default: boolean;
  insecure: boolean;
}

export function saveInstance(fields: InstanceFields, name?: string): Promise<unknown> {
  return name === undefined
    ? apiCreate(instancesPath, fields)
    : api(`${instancesPath}/${encodeURIComponent(name)}`, { method: 'PUT', body: fields });
}

/** Sends an instance back whole with some fields changed (enable/disable, default), as Harbor's portal does. */
export function patchInstance(i: PreheatInstance, change: Partial<InstanceFields>): Promise<unknown> {
  const { name, description, vendor, endpoint, auth_mode, enabled, insecure } = i;
  const body = { name, description, vendor, endpoint, auth_mode, enabled, insecure, default: i.default };
  return saveInstance({ ...body, ...change }, i.name);
}

/** Resolves when the instance's health path answers; rejects with why not. */
export function pingInstance(i: { id: number } | InstanceFields): Promise<unknown> {
  return api(`${instancesPath}/ping`, { method: 'POST', body: i });
}

export function deleteInstance(name: string): Promise<unknown> {
  return api(`${instancesPath}/${encodeURIComponent(name)}`, { method: 'DELETE' });
}

export function policyList(project: string) {
  return listSource<PreheatPolicy>(preheatKeys.policies(project), policiesPath(project));
}

export function executionList(project: string, policy: string) {
  return listSource<PreheatExecution>(
    preheatKeys.executions(project, policy),
    `${policyPath(project, policy)}/executions`,
  );
}

export function tasksQuery(project: string, policy: string, execution: number) {
  return queryOptions({
    queryKey: preheatKeys.tasks(project, policy, execution),
    queryFn: () =>
      apiPage<PreheatTask>(`${policyPath(project, policy)}/executions/${execution}/tasks`, {
        query: { page_size: 100 },
      }),
  });
}

export function taskLogQuery(project: string, policy: string, execution: number, task: number | undefined) {
  return queryOptions({
    queryKey: preheatKeys.taskLog(project, policy, execution, task),
    queryFn: () => api<string>(`${policyPath(project, policy)}/executions/${execution}/tasks/${task}/logs`),
  });
}

/** What the policy dialog edits; the filters and the trigger are built into Harbor's JSON text. */
export interface PolicyFields {
  name: string;
  description: string;
  provider_id: number;
  repository: string;
  tag: string;
  label: string;
  trigger: 'manual' | 'scheduled' | 'event_based';
  cron: string;
  enabled: boolean;
}

export function policyFieldsOf(p: PreheatPolicy | null): PolicyFields {
  const filters = p ? (JSON.parse(p.filters) as { type: string; value: unknown }[]) : [];
  const value = (type: string) => String(filters.find((f) => f.type === type)?.value ?? '');
  const trigger = p
    ? (JSON.parse(p.trigger) as { type: PolicyFields['trigger']; trigger_setting?: { cron?: string } })
    : { type: 'manual' as const };
  return {
    name: p?.name ?? '',
    description: p?.description ?? '',
    provider_id: p?.provider_id ?? 0,
    repository: p ? value('repository') : '**',
    tag: p ? value('tag') : '**',
    label: value('label'),
    trigger: trigger.type,
    cron: trigger.trigger_setting?.cron ?? '',
    enabled: p?.enabled ?? true,
  };
}

function policyBody(f: PolicyFields) {
  const filters = [
    { type: 'repository', value: f.repository.trim() },
    { type: 'tag', value: f.tag.trim() },
    ...(f.label.trim() ? [{ type: 'label', value: f.label.trim() }] : []),
  ];
  return {
    name: f.name.trim(),
    description: f.description,
    provider_id: f.provider_id,
    filters: JSON.stringify(filters),
    trigger: JSON.stringify({
      type: f.trigger,
      trigger_setting: { cron: f.trigger === 'scheduled' ? f.cron.trim() : '' },
    }),
    enabled: f.enabled,
  };
}

/** Creates the policy, or replaces the one named `name`. */
export function savePolicy(project: string, f: PolicyFields, name?: string): Promise<unknown> {
  return name === undefined
    ? apiCreate(policiesPath(project), policyBody(f))
    : api(policyPath(project, name), { method: 'PUT', body: policyBody(f) });
}

export function setPolicyEnabled(project: string, p: PreheatPolicy, enabled: boolean): Promise<unknown> {
  return savePolicy(project, { ...policyFieldsOf(p), enabled }, p.name);
}

export function deletePolicy(project: string, name: string): Promise<unknown> {
  return api(policyPath(project, name), { method: 'DELETE' });
}

/** ManualPreheat: runs the policy now. */
export function runPolicy(project: string, name: string): Promise<unknown> {
  return api(policyPath(project, name), { method: 'POST', body: {} });
}

export function stopExecution(project: string, policy: string, execution: number): Promise<unknown> {
  return api(`${policyPath(project, policy)}/executions/${execution}`, {
    method: 'PATCH',
    body: { status: 'Stopped' },
  });
}
