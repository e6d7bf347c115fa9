import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError } from './client';
import type { Permission, SystemInfo, User } from './types';

/** Query keys of the session: who is signed in, what Berth is, what the user may do in a project. */
export const sessionKeys = {
  currentUser: ['current-user'] as const,
  systemInfo: ['systeminfo'] as const,
  permissions: (projectId: number | undefined, userId: number | undefined) =>
    ['permissions', projectId, userId] as const,
};

/** The signed-in user, or null when the session is anonymous (401). */
export function useCurrentUser() {
  return useQuery({
    queryKey: sessionKeys.currentUser,
    queryFn: async (): Promise<User | null> => {
      try {
        return await api<User>('/users/current');
      } catch (err) {
        if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return null;
        throw err;
      }
    },
    staleTime: 60_000,
    retry: false,
  });
}

export function useSystemInfo() {
  return useQuery({
    queryKey: sessionKeys.systemInfo,
    queryFn: () => api<SystemInfo>('/systeminfo'),
    staleTime: 5 * 60_000,
    retry: false,
  });
}

export async function signIn(principal: string, password: string): Promise<void> {
  await api('/c/login', { method: 'POST', form: { principal, password } });
}

export function useSignOut() {
  const client = useQueryClient();
  return async () => {
    try {
      await api('/c/log_out');
    } finally {
      client.clear();
      client.setQueryData(sessionKeys.currentUser, null);
    }
  };
}

/**
 * What the current user may do in a project, from Harbor's relative permission list. `can` answers false
 * until the list is loaded, so push/delete controls never flash for someone who may not use them.
 */
export function useProjectPermissions(projectId: number | undefined) {
  const user = useCurrentUser().data;
  const query = useQuery({
    queryKey: sessionKeys.permissions(projectId, user?.user_id),
    enabled: projectId !== undefined && !!user,
    queryFn: () =>
      api<Permission[]>('/users/current/permissions', {
        query: { scope: `/project/${projectId}`, relative: true },
      }),
    staleTime: 60_000,
  });
  const granted = new Set((query.data ?? []).map((p) => `${p.resource}:${p.action}`));
  // A system administrator may do everything in every project (Harbor's admin evaluator).
  const admin = !!user?.sysadmin_flag;
  return {
    loading: query.isLoading,
    can: (resource: string, action: string) => admin || granted.has(`${resource}:${action}`),
  };
}
