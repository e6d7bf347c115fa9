import { queryOptions } from '@tanstack/react-query';
import { api, apiCreate } from './client';
import { listSource } from './hooks';
import type { Member, User, UserGroup } from './types';

export const memberKeys = {
  all: (projectId: number) => ['members', projectId] as const,
  list: (projectId: number) => [...memberKeys.all(projectId), 'list'] as const,
  candidates: (kind: 'user' | 'group', name: string) => ['members', 'candidates', kind, name] as const,
};

export function memberList(projectId: number) {
  return listSource<Member>(memberKeys.list(projectId), `/projects/${projectId}/members`);
}

/** Names of users or groups starting like `name`, to suggest while a member is being added. */
export function memberCandidatesQuery(kind: 'user' | 'group', name: string) {
  return queryOptions({
    queryKey: memberKeys.candidates(kind, name),
    queryFn: async () =>
      kind === 'user'
        ? (await api<User[]>('/users/search', { query: { username: name, page_size: 10 } })).map(
            (u) => u.username,
          )
        : (await api<UserGroup[]>('/usergroups/search', { query: { groupname: name, page_size: 10 } })).map(
            (g) => g.group_name,
          ),
  });
}

export function addMember(
  projectId: number,
  kind: 'user' | 'group',
  name: string,
  roleId: number,
): Promise<string | undefined> {
  return apiCreate(`/projects/${projectId}/members`, {
    role_id: roleId,
    ...(kind === 'user' ? { member_user: { username: name } } : { member_group: { group_name: name } }),
  });
}

export function setMemberRole(projectId: number, memberId: number, roleId: number): Promise<unknown> {
  return api(`/projects/${projectId}/members/${memberId}`, { method: 'PUT', body: { role_id: roleId } });
}

export function removeMember(projectId: number, memberId: number): Promise<unknown> {
  return api(`/projects/${projectId}/members/${memberId}`, { method: 'DELETE' });
}
