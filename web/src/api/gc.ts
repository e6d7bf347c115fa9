import { queryOptions } from '@tanstack/react-query';
import { api, apiCreate } from './client';
import { listSource } from './hooks';

/** One garbage collection as Harbor's GC history shows it; `job_parameters` is JSON (parameters and figures). */
export interface GcRun {
  id: number;
  job_kind: string;
  job_status: string;
  job_parameters: string;
  creation_time: string;
  update_time: string;
}

/** The GC schedule ({} when there is none). */
export interface GcSchedule {
  schedule?: { type: string; cron?: string; next_scheduled_time?: string };
  job_parameters?: string;
}

export interface GcParameters {
  delete_untagged: boolean;
  dry_run?: boolean;
  workers?: number;
}

/** Query keys of garbage collection: the history (with each run's log) and the schedule. */
export const gcKeys = {
  all: ['gc'] as const,
  history: () => [...gcKeys.all, 'history'] as const,
  log: (id: number) => [...gcKeys.all, 'log', id] as const,
  schedule: () => [...gcKeys.all, 'schedule'] as const,
};

/** Runs, newest first. */
export function gcHistoryList() {
  return listSource<GcRun>(gcKeys.history(), '/system/gc');
}

export function gcLogQuery(id: number) {
  return queryOptions({ queryKey: gcKeys.log(id), queryFn: () => api<string>(`/system/gc/${id}/log`) });
}

export function gcScheduleQuery() {
  return queryOptions({ queryKey: gcKeys.schedule(), queryFn: () => api<GcSchedule>('/system/gc/schedule') });
}

/** Starts a run now (a dry run when `dry_run`); returns its id. */
export function startGc(parameters: GcParameters): Promise<string | undefined> {
  return apiCreate('/system/gc/schedule', { schedule: { type: 'Manual' }, parameters });
}

export function stopGc(id: number): Promise<unknown> {
  return api(`/system/gc/${id}`, { method: 'PUT' });
}

/** Sets the schedule (type None removes it). */
export function saveGcSchedule(type: string, cron: string, parameters: GcParameters): Promise<unknown> {
  return api('/system/gc/schedule', {
    method: 'PUT',
    body: { schedule: { type, ...(type === 'Custom' ? { cron } : {}) }, parameters },
  });
}
