import { queryOptions } from '@tanstack/react-query';
import { api } from './client';

/** Counters of one day, or summed over a range (GET /insights, Berth's own; docs/insights.md). */
export interface InsightCounters {
  pushes: number;
  pulls: number;
  deletes: number;
  push_bytes: number;
  pull_bytes: number;
  active_users: number;
}

export interface Insights {
  from: string;
  to: string;
  days: number;
  totals: InsightCounters;
  activity: (InsightCounters & { date: string })[];
  storage: { date: string; used_bytes: number }[];
  storage_by_project: { project_id: number; project_name: string; used_bytes: number }[];
  top_repositories: {
    project_id: number;
    project_name: string;
    repository_name: string;
    pushes: number;
    pulls: number;
    push_bytes: number;
    pull_bytes: number;
  }[];
  top_users: { username: string; pushes: number; pulls: number; active_days: number }[];
  vulnerabilities: {
    date: string;
    critical: number;
    high: number;
    medium: number;
    low: number;
    unknown: number;
  }[];
}

export const insightKeys = {
  all: ['insights'] as const,
  system: (days: number) => [...insightKeys.all, 'system', days] as const,
  project: (projectId: number, days: number) => [...insightKeys.all, 'project', projectId, days] as const,
};

/** Every project for an administrator, the user's own projects otherwise, over the last `days` days. */
export function insightsQuery(days: number) {
  return queryOptions({
    queryKey: insightKeys.system(days),
    queryFn: () => api<Insights>('/insights', { query: { days } }),
  });
}

export function projectInsightsQuery(projectId: number, days: number) {
  return queryOptions({
    queryKey: insightKeys.project(projectId, days),
    queryFn: () => api<Insights>(`/insights/projects/${projectId}`, { query: { days } }),
  });
}
