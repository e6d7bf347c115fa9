import { api } from './client';
import { listSource } from './hooks';
import type { Quota } from './types';

/** Harbor's storage quotas (/quotas), one per project: a system resource, for administrators. */
export const quotaKeys = {
  all: ['quotas'] as const,
  list: () => [...quotaKeys.all, 'list'] as const,
};

export function quotaList() {
  return listSource<Quota>(quotaKeys.list(), '/quotas', { reference: 'project' });
}

/** Sets the project's storage limit in bytes (-1: unlimited). */
export function updateQuota(id: number, storage: number): Promise<unknown> {
  return api(`/quotas/${id}`, { method: 'PUT', body: { hard: { storage } } });
}
