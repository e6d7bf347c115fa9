import { queryOptions } from '@tanstack/react-query';
import { api, ApiError, apiCreate } from './client';
import { listSource } from './hooks';
import type { CveAllowlist } from './security';
import type { Project, ProjectMetadata, ProjectSummary, Quota } from './types';

/** Query keys of projects: everything under `all`, so one invalidation can reach lists and details. */
export const projectKeys = {
  all: ['projects'] as const,
  lists: () => [...projectKeys.all, 'list'] as const,
  list: (filters: { name?: string }) => [...projectKeys.lists(), filters] as const,
  // Route params are strings and rows carry numbers: one form, so both find the same entry.
  detail: (id: number | string) => [...projectKeys.all, 'detail', String(id)] as const,
  summary: (id: number | string) => [...projectKeys.all, 'summary', String(id)] as const,
  nameTaken: (name: string) => [...projectKeys.all, 'name-taken', name] as const,
  quotas: (projectIds: number[]) => ['quotas', 'project', projectIds] as const,
};

/** The projects the user can see, with role and repository count; `name` is Harbor's fuzzy name filter. */
export function projectList(filters: { name?: string }) {
  return listSource<Project>(projectKeys.list(filters), '/projects', {
    name: filters.name || undefined,
    with_detail: true,
  });
}

export function projectQuery(id: number | string) {
  return queryOptions({
    queryKey: projectKeys.detail(id),
    queryFn: () => api<Project>(`/projects/${id}`),
  });
}

export function projectSummaryQuery(id: number) {
  return queryOptions({
    queryKey: projectKeys.summary(id),
    queryFn: () => api<ProjectSummary>(`/projects/${id}/summary`),
  });
}

/** Whether a project of that name exists (HEAD /projects?project_name=). */
export function projectNameTakenQuery(name: string) {
  return queryOptions({
    queryKey: projectKeys.nameTaken(name),
    queryFn: async () => {
      try {
        await api('/projects', { method: 'HEAD', query: { project_name: name } });
        return true;
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return false;
        throw err;
      }
    },
  });
}

/** Storage quotas of projects: a system resource, readable by administrators only. */
export function projectQuotasQuery(projectIds: number[]) {
  return queryOptions({
    queryKey: projectKeys.quotas(projectIds),
    queryFn: () => api<Quota[]>('/quotas', { query: { reference: 'project', page_size: 100 } }),
  });
}

/** Creates a project; answers its id from the Location header. */
export function createProject(body: {
  project_name: string;
  metadata: Partial<ProjectMetadata>;
  /** Bytes; -1 for no limit. */
  storage_limit?: number;
  /** A registry endpoint: the project is a proxy cache of it. */
  registry_id?: number;
}): Promise<string | undefined> {
  return apiCreate('/projects', body);
}

/** Sets metadata and, when given, the project's own CVE allowlist (Harbor's updateProject). */
export function updateProjectMetadata(
  id: number,
  metadata: Partial<ProjectMetadata>,
  cveAllowlist?: CveAllowlist,
): Promise<unknown> {
  return api(`/projects/${id}`, {
    method: 'PUT',
    body: { metadata, ...(cveAllowlist ? { cve_allowlist: cveAllowlist } : {}) },
  });
}

/** Names and ids of up to 100 projects (the security hub's project filter). */
export function projectChoicesQuery() {
  return queryOptions({
    queryKey: [...projectKeys.lists(), 'choices'] as const,
    queryFn: () => api<Project[]>('/projects', { query: { page_size: 100 } }),
  });
}
