import { api, apiCreate } from './client';
import { listSource } from './hooks';
import type { UserGroup } from './types';

/** Harbor's user groups (/usergroups): LDAP, HTTP and OIDC groups that can be project members. */
export const groupKeys = {
  all: ['usergroups'] as const,
  list: () => [...groupKeys.all, 'list'] as const,
};

export function groupList() {
  return listSource<UserGroup>(groupKeys.list(), '/usergroups');
}

export function createGroup(group: {
  group_name: string;
  group_type: number;
  ldap_group_dn?: string;
}): Promise<string | undefined> {
  return apiCreate('/usergroups', group);
}

export function deleteGroup(id: number): Promise<unknown> {
  return api(`/usergroups/${id}`, { method: 'DELETE' });
}
