import { queryOptions } from '@tanstack/react-query';
import { api, apiCreate } from './client';
import { listSource } from './hooks';

export interface JobQueue {
  job_type: string;
  count: number;
  latency: number;
  paused: boolean;
}

export interface WorkerPool {
  worker_pool_id: string;
  pid: number;
  host: string;
  concurrency: number;
  start_at: string;
  heartbeat_at: string;
}

export interface Worker {
  id: string;
  pool_id: string;
  job_name?: string;
  job_id?: string;
  start_at?: string;
  checkin_at?: string;
}

export interface ScheduleTask {
  id: number;
  vendor_type: string;
  vendor_id: number;
  cron: string;
  update_time: string;
}

export interface PurgeRun {
  id: number;
  job_kind: string;
  job_parameters: string;
  job_status: string;
  creation_time: string;
  update_time: string;
}

export interface PurgeSchedule {
  schedule: { type: string; cron: string; next_scheduled_time?: string };
  job_parameters: string;
}

export interface PurgeParameters {
  audit_retention_hour: number;
  include_event_types: string;
  dry_run?: boolean;
}

/** The dashboard refreshes by itself: job queues change without anyone on the page acting. */
const live = 2000;

export const jobserviceKeys = {
  all: ['jobservice'] as const,
  queues: () => [...jobserviceKeys.all, 'queues'] as const,
  workers: () => [...jobserviceKeys.all, 'workers'] as const,
  pools: () => [...jobserviceKeys.all, 'pools'] as const,
  schedules: () => [...jobserviceKeys.all, 'schedules'] as const,
  paused: () => [...jobserviceKeys.all, 'scheduler-paused'] as const,
};

export function queuesQuery() {
  return queryOptions({
    queryKey: jobserviceKeys.queues(),
    queryFn: () => api<JobQueue[]>('/jobservice/queues'),
    refetchInterval: live,
  });
}

export function poolsQuery() {
  return queryOptions({
    queryKey: jobserviceKeys.pools(),
    queryFn: () => api<WorkerPool[]>('/jobservice/pools'),
    refetchInterval: live,
  });
}

export function workersQuery() {
  return queryOptions({
    queryKey: jobserviceKeys.workers(),
    queryFn: () => api<Worker[]>('/jobservice/pools/all/workers'),
    refetchInterval: live,
  });
}

export function schedulerPausedQuery() {
  return queryOptions({
    queryKey: jobserviceKeys.paused(),
    queryFn: () => api<{ paused: boolean }>('/schedules/all/paused'),
    refetchInterval: live,
  });
}

export function scheduleList() {
  return listSource<ScheduleTask>(jobserviceKeys.schedules(), '/schedules');
}

/** Pause, resume, or stop every pending job of a queue (`all`: every queue; `SCHEDULER`: the scheduler). */
export function queueAction(jobType: string, action: 'pause' | 'resume' | 'stop'): Promise<unknown> {
  return api(`/jobservice/queues/${encodeURIComponent(jobType)}`, { method: 'PUT', body: { action } });
}

export function stopJob(jobId: string): Promise<unknown> {
  return api(`/jobservice/jobs/${encodeURIComponent(jobId)}`, { method: 'PUT' });
}

export function jobLogQuery(jobId: string) {
  return queryOptions({
    queryKey: [...jobserviceKeys.all, 'job', jobId, 'log'] as const,
    queryFn: () => api<string>(`/jobservice/jobs/${encodeURIComponent(jobId)}/log`),
  });
}

export const purgeKeys = {
  all: ['purgeaudit'] as const,
  history: () => [...purgeKeys.all, 'history'] as const,
  schedule: () => [...purgeKeys.all, 'schedule'] as const,
};

export function purgeHistory() {
  return listSource<PurgeRun>(purgeKeys.history(), '/system/purgeaudit');
}

export function purgeScheduleQuery() {
  return queryOptions({
    queryKey: purgeKeys.schedule(),
    queryFn: async () => (await api<PurgeSchedule | undefined>('/system/purgeaudit/schedule')) ?? null,
  });
}

export function purgeLogQuery(id: number) {
  return queryOptions({
    queryKey: [...purgeKeys.all, id, 'log'] as const,
    queryFn: () => api<string>(`/system/purgeaudit/${id}/log`),
  });
}

/** Runs a purge now; answers the new run's id. */
export async function purgeNow(parameters: PurgeParameters): Promise<number> {
  return Number(await apiCreate('/system/purgeaudit/schedule', { schedule: { type: 'Manual' }, parameters }));
}

/** Saves the schedule (type None removes it). */
export function savePurgeSchedule(type: string, cron: string, parameters: PurgeParameters): Promise<unknown> {
  return api('/system/purgeaudit/schedule', {
    method: 'PUT',
    body: { schedule: { type, cron }, parameters },
  });
}

export function stopPurge(id: number): Promise<unknown> {
  return api(`/system/purgeaudit/${id}`, { method: 'PUT' });
}
