import { queryOptions } from '@tanstack/react-query';
import { api } from './client';
import type { Configurations } from './types';

/** Harbor's runtime settings (/configurations), kept in Berth's database. */
export const configurationKeys = {
  all: ['configurations'] as const,
};

export function configurationsQuery() {
  return queryOptions({
    queryKey: configurationKeys.all,
    queryFn: () => api<Configurations>('/configurations'),
  });
}

/** Saves only the keys given. */
export function updateConfigurations(changes: Record<string, unknown>): Promise<unknown> {
  return api('/configurations', { method: 'PUT', body: changes });
}
