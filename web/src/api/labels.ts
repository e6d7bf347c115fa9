import { queryOptions } from '@tanstack/react-query';
import { api, apiCreate } from './client';
import { listSource } from './hooks';
import type { Label } from './types';

/** Global labels have scope g; project labels scope p and the project's id. */
export const labelKeys = {
  all: ['labels'] as const,
  list: (scope: 'g' | 'p', projectId?: number) => [...labelKeys.all, scope, projectId] as const,
  /** The global labels plus those of one project: what an artifact of that project may carry. */
  usable: (projectId: number) => [...labelKeys.all, 'usable', projectId] as const,
};

export function labelList(scope: 'g' | 'p', projectId?: number) {
  return listSource<Label>(labelKeys.list(scope, projectId), '/labels', { scope, project_id: projectId });
}

export function usableLabelsQuery(projectId: number) {
  return queryOptions({
    queryKey: labelKeys.usable(projectId),
    queryFn: async () => [
      ...(await api<Label[]>('/labels', { query: { scope: 'g', page_size: 100 } })),
      ...(await api<Label[]>('/labels', { query: { scope: 'p', project_id: projectId, page_size: 100 } })),
    ],
  });
}

export interface LabelFields {
  name: string;
  description: string;
  color: string;
  scope: 'g' | 'p';
  project_id: number;
}

/** Creates the label, or updates it when `id` is given. */
export function saveLabel(fields: LabelFields, id?: number): Promise<unknown> {
  return id === undefined
    ? apiCreate('/labels', fields)
    : api(`/labels/${id}`, { method: 'PUT', body: fields });
}

export function deleteLabel(id: number): Promise<unknown> {
  return api(`/labels/${id}`, { method: 'DELETE' });
}
