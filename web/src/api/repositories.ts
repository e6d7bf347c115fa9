import { queryOptions } from '@tanstack/react-query';
import { api, q, repoPath } from './client';
import { listSource } from './hooks';
import type { Repository } from './types';

/** `repo` is the name inside the project ("a/b" of "proj/a/b"), as the API paths take it. */
export function repositoryPath(projectName: string, repo: string): string {
  return `/projects/${projectName}/repositories/${repoPath(repo)}`;
}

/** Query keys of a project's repositories: lists and details under `all(projectName)`. */
export const repositoryKeys = {
  all: (projectName: string) => ['repositories', projectName] as const,
  list: (projectName: string, filters: { name?: string }) =>
    [...repositoryKeys.all(projectName), 'list', filters] as const,
  detail: (projectName: string, repo: string) =>
    [...repositoryKeys.all(projectName), 'detail', repo] as const,
};

/** A project's repositories; `name` is matched fuzzily. */
export function repositoryList(projectName: string, filters: { name?: string }) {
  return listSource<Repository>(
    repositoryKeys.list(projectName, filters),
    `/projects/${projectName}/repositories`,
    { q: q({ name: filters.name ? `~${filters.name}` : undefined }) },
  );
}

export function repositoryQuery(projectName: string, repo: string) {
  return queryOptions({
    queryKey: repositoryKeys.detail(projectName, repo),
    queryFn: () => api<Repository>(repositoryPath(projectName, repo)),
  });
}

export function updateRepositoryDescription(
  projectName: string,
  repo: string,
  description: string,
): Promise<unknown> {
  return api(repositoryPath(projectName, repo), { method: 'PUT', body: { description } });
}

export function deleteRepository(projectName: string, repo: string): Promise<unknown> {
  return api(repositoryPath(projectName, repo), { method: 'DELETE' });
}
