import { queryOptions } from '@tanstack/react-query';
import { api, apiCreate } from './client';
import { listSource } from './hooks';

/** Harbor's ScannerRegistration. */
export interface Scanner {
  uuid: string;
  name: string;
  description?: string;
  url: string;
  auth?: string;
  access_credential?: string;
  is_default?: boolean;
  disabled?: boolean;
  skip_certVerify?: boolean;
  use_internal_addr?: boolean;
  health?: string;
  vendor?: string;
  version?: string;
  adapter?: string;
  create_time?: string;
}

/** What the dialog sends (Harbor's ScannerRegistrationReq). */
export type ScannerFields = Pick<
  Scanner,
  'name' | 'description' | 'url' | 'auth' | 'access_credential' | 'skip_certVerify' | 'use_internal_addr'
>;

/** Harbor's ScannerAdapterMetadata. */
export interface ScannerMetadata {
  scanner?: { name: string; vendor: string; version: string };
  capabilities?: { consumes_mime_types?: string[]; produces_mime_types?: string[] }[];
  properties?: Record<string, string>;
}

/** The built-in scanner's fixed id: immutable, as Harbor's built-in Trivy. */
export const BUILTIN_SCANNER = '00000000-0000-4000-8000-00000000be47';

/** Query keys of scanner registrations: the list and each one's metadata. */
export const scannerKeys = {
  all: ['scanners'] as const,
  list: () => [...scannerKeys.all, 'list'] as const,
  metadata: (uuid: string) => [...scannerKeys.all, 'metadata', uuid] as const,
  /** A project's scanner and the registrations it may choose from. */
  project: (projectId: number) => [...scannerKeys.all, 'project', projectId] as const,
  candidates: (projectId: number) => [...scannerKeys.project(projectId), 'candidates'] as const,
};

export function scannerList() {
  return listSource<Scanner>(scannerKeys.list(), '/scanners');
}

export function scannerMetadataQuery(uuid: string) {
  return queryOptions({
    queryKey: scannerKeys.metadata(uuid),
    queryFn: () => api<ScannerMetadata>(`/scanners/${uuid}/metadata`),
  });
}

export function createScanner(fields: ScannerFields): Promise<string | undefined> {
  return apiCreate('/scanners', fields);
}

export function updateScanner(
  uuid: string,
  fields: ScannerFields & { disabled?: boolean },
): Promise<unknown> {
  return api(`/scanners/${uuid}`, { method: 'PUT', body: fields });
}

/** Enables or disables a registration (Harbor's UI sends the registration back with `disabled` flipped). */
export function setScannerDisabled(s: Scanner, disabled: boolean): Promise<unknown> {
  const { name, description, url, auth, skip_certVerify, use_internal_addr } = s;
  return updateScanner(s.uuid, {
    name,
    description,
    url,
    auth,
    skip_certVerify,
    use_internal_addr,
    disabled,
  });
}

export function deleteScanner(uuid: string): Promise<unknown> {
  return api(`/scanners/${uuid}`, { method: 'DELETE' });
}

export function setDefaultScanner(uuid: string): Promise<unknown> {
  return api(`/scanners/${uuid}`, { method: 'PATCH', body: { is_default: true } });
}

/** "Test connection": asks the adapter for its metadata without registering it. */
export function pingScanner(fields: ScannerFields): Promise<unknown> {
  return api('/scanners/ping', { method: 'POST', body: fields });
}

/** The project's scanner (Harbor's getScannerOfProject): its own choice, else the default; null without one. */
export function projectScannerQuery(projectId: number) {
  return queryOptions({
    queryKey: scannerKeys.project(projectId),
    queryFn: () => api<Scanner | null>(`/projects/${projectId}/scanner`),
  });
}

/** The registrations a project may choose from (listScannerCandidatesOfProject). */
export function projectScannerCandidates(projectId: number) {
  return listSource<Scanner>(scannerKeys.candidates(projectId), `/projects/${projectId}/scanner/candidates`);
}

export function setProjectScanner(projectId: number, uuid: string): Promise<unknown> {
  return api(`/projects/${projectId}/scanner`, { method: 'PUT', body: { uuid } });
}
