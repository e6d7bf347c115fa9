import { queryOptions } from '@tanstack/react-query';
import { api, apiCreate } from './client';
import { listSource } from './hooks';
import type { Registry } from './types';

/** Registry endpoints replication pushes to and pulls from. */
export const registryKeys = {
  all: ['registries'] as const,
  list: () => [...registryKeys.all, 'list'] as const,
  /** Every endpoint at once (up to 100), for choosing one in a form. */
  choices: () => [...registryKeys.all, 'choices'] as const,
  adapters: () => ['replication-adapters'] as const,
};

export function registryList() {
  return listSource<Registry>(registryKeys.list(), '/registries');
}

export function registryChoicesQuery() {
  return queryOptions({
    queryKey: registryKeys.choices(),
    queryFn: () => api<Registry[]>('/registries', { query: { page_size: 100 } }),
  });
}

/** The registry types Berth can replicate with. */
export function adapterTypesQuery() {
  return queryOptions({
    queryKey: registryKeys.adapters(),
    queryFn: () => api<string[]>('/replication/adapters'),
  });
}

/**
 * Swagger has three shapes: Registry (create, credential nested), RegistryUpdate (edit, flat credential
 * fields) and RegistryPing (no name; an id reuses the stored secret). The dialog builds them.
 */
export function createRegistry(registry: Record<string, unknown>): Promise<string | undefined> {
  return apiCreate('/registries', registry);
}

export function updateRegistry(id: number, update: Record<string, unknown>): Promise<unknown> {
  return api(`/registries/${id}`, { method: 'PUT', body: update });
}

/** Tests the connection; resolves when the endpoint answered as a registry, rejects with why not. */
export function pingRegistry(ping: Record<string, unknown>): Promise<unknown> {
  return api('/registries/ping', { method: 'POST', body: ping });
}

export function deleteRegistry(id: number): Promise<unknown> {
  return api(`/registries/${id}`, { method: 'DELETE' });
}
