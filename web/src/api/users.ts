import { api, apiCreate, q } from './client';
import { listSource } from './hooks';
import type { User } from './types';

export const userKeys = {
  all: ['users'] as const,
  list: (filters: { username?: string }) => [...userKeys.all, 'list', filters] as const,
};

/** Every user (administrators only); `username` is matched fuzzily. */
export function userList(filters: { username?: string }) {
  return listSource<User>(userKeys.list(filters), '/users', {
    q: q({ username: filters.username ? `~${filters.username}` : undefined }),
  });
}

export function createUser(user: {
  username: string;
  email: string;
  realname: string;
  password: string;
}): Promise<string | undefined> {
  return apiCreate('/users', { ...user, comment: '' });
}

export function setSysadmin(userId: number, sysadmin: boolean): Promise<unknown> {
  return api(`/users/${userId}/sysadmin`, { method: 'PUT', body: { sysadmin_flag: sysadmin } });
}

/** An administrator sets the password; a user changing their own gives the old one too. */
export function updatePassword(userId: number, newPassword: string, oldPassword?: string): Promise<unknown> {
  return api(`/users/${userId}/password`, {
    method: 'PUT',
    body:
      oldPassword === undefined
        ? { new_password: newPassword }
        : { old_password: oldPassword, new_password: newPassword },
  });
}

export function updateProfile(
  userId: number,
  profile: { email: string; realname: string; comment: string },
): Promise<unknown> {
  return api(`/users/${userId}`, { method: 'PUT', body: profile });
}

export function setCliSecret(userId: number, secret: string): Promise<unknown> {
  return api(`/users/${userId}/cli_secret`, { method: 'PUT', body: { secret } });
}

export function deleteUser(userId: number): Promise<unknown> {
  return api(`/users/${userId}`, { method: 'DELETE' });
}
