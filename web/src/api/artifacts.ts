import { queryOptions } from '@tanstack/react-query';
import { api, apiCreate, q } from './client';
import { listSource } from './hooks';
import { repositoryPath } from './repositories';
import type { Artifact, BuildHistoryEntry } from './types';

/** One artifact of one repository; `reference` is a digest or a tag. */
export interface ArtifactRef {
  projectName: string;
  repo: string;
  reference: string;
}

export function artifactPath(ref: ArtifactRef): string {
  return `${repositoryPath(ref.projectName, ref.repo)}/artifacts/${ref.reference}`;
}

/** Query keys of a repository's artifacts: lists, details and additions under `all(project, repo)`. */
export const artifactKeys = {
  all: (projectName: string, repo: string) => ['artifacts', projectName, repo] as const,
  list: (projectName: string, repo: string, filters: { tags?: string }) =>
    [...artifactKeys.all(projectName, repo), 'list', filters] as const,
  detail: (ref: ArtifactRef) =>
    [...artifactKeys.all(ref.projectName, ref.repo), 'detail', ref.reference] as const,
  addition: (ref: ArtifactRef, addition: 'build_history' | 'vulnerabilities') =>
    [...artifactKeys.detail(ref), addition] as const,
};

/** A repository's artifacts with tags, labels, accessories and scan overview; `tags` is matched fuzzily. */
export function artifactList(projectName: string, repo: string, filters: { tags?: string }) {
  return listSource<Artifact>(
    artifactKeys.list(projectName, repo, filters),
    `${repositoryPath(projectName, repo)}/artifacts`,
    {
      with_tag: true,
      with_label: true,
      with_accessory: true,
      with_scan_overview: true,
      q: q({ tags: filters.tags ? `~${filters.tags}` : undefined }),
    },
  );
}

export function artifactQuery(ref: ArtifactRef) {
  return queryOptions({
    queryKey: artifactKeys.detail(ref),
    queryFn: () =>
      api<Artifact>(artifactPath(ref), {
        query: { with_tag: true, with_label: true, with_accessory: true, with_scan_overview: true },
      }),
  });
}

export function buildHistoryQuery(ref: ArtifactRef) {
  return queryOptions({
    queryKey: artifactKeys.addition(ref, 'build_history'),
    queryFn: () => api<BuildHistoryEntry[]>(`${artifactPath(ref)}/additions/build_history`),
  });
}

export function deleteArtifact(ref: ArtifactRef): Promise<unknown> {
  return api(artifactPath(ref), { method: 'DELETE' });
}

export function addTag(ref: ArtifactRef, name: string): Promise<string | undefined> {
  return apiCreate(`${artifactPath(ref)}/tags`, { name });
}

export function deleteTag(ref: ArtifactRef, name: string): Promise<unknown> {
  return api(`${artifactPath(ref)}/tags/${encodeURIComponent(name)}`, { method: 'DELETE' });
}

export function addArtifactLabel(ref: ArtifactRef, labelId: number): Promise<unknown> {
  return api(`${artifactPath(ref)}/labels`, { method: 'POST', body: { id: labelId } });
}

export function removeArtifactLabel(ref: ArtifactRef, labelId: number): Promise<unknown> {
  return api(`${artifactPath(ref)}/labels/${labelId}`, { method: 'DELETE' });
}
