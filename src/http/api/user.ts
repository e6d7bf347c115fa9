import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { userFields } from '../../db/repos/users.js';
import type { UserRow } from '../../db/tables.js';
import { AppError } from '../../lib/errors.js';
import type { UserSubject } from '../../services/access/subject.js';
import { subjectOf } from './access.js';
import type { ApiDeps } from './deps.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { listParams, q, type ApiRouter } from './router.js';

const idParam = z.object({ user_id: q.id });
const tag = 'user';

function currentUser(request: FastifyRequest): UserSubject {
  const s = subjectOf(request);
  if (s.kind === 'anonymous') throw new AppError('UNAUTHORIZED', 'authentication required');
  if (s.kind !== 'user') throw new AppError('FORBIDDEN', 'robot accounts have no user profile');
  return s;
}

function sysadmin(request: FastifyRequest): UserSubject {
  const u = currentUser(request);
  if (!u.sysadmin) throw new AppError('FORBIDDEN', 'only a system administrator may do this');
  return u;
}

/** Self or a sysadmin. */
function selfOrAdmin(request: FastifyRequest, id: number): UserSubject {
  const u = currentUser(request);
  if (u.userId !== id && !u.sysadmin)
    throw new AppError('FORBIDDEN', 'you may only see or change your own account');
  return u;
}

export function userModel(row: UserRow, cliSecret?: string) {
  return {
    user_id: row.id,
    username: row.username,
    email: row.email ?? '',
    realname: row.realname,
    comment: row.comment,
    sysadmin_flag: row.sysadmin === 1,
    admin_role_in_auth: false,
    ...(row.auth_source === 'oidc'
      ? { oidc_user_meta: { user_id: row.id, subiss: row.external_subject ?? '', secret: cliSecret ?? '' } }
      : {}),
    creation_time: row.creation_time,
    update_time: row.update_time,
  };
}

/** Harbor's `user` tag: /users… */
export function userRoutes(api: ApiRouter, deps: ApiDeps): void {
  const id = deps.identity!;
  api.add({
    operationId: 'createUser',
    tag,
    method: 'POST',
    path: '/users',
    summary: 'Create a local user (system admin only; self-registration is off).',
    body: z
      .object({
        username: z.string(),
        password: z.string(),
        email: z.string().optional(),
        realname: z.string().optional(),
        comment: z.string().optional(),
      })
      .strict(),
    status: 201,
    handler: async ({ body }, request, reply) => {
      sysadmin(request);
      const userId = await id.users.create(body);
      reply.header('Location', `/api/v2.0/users/${userId}`);
      return undefined;
    },
  });

  api.add({
    operationId: 'listUsers',
    tag,
    method: 'GET',
    path: '/users',
    summary: 'List users (system admin only).',
    query: z.object(listParams),
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    handler: async ({ query }, request, reply) => {
      sysadmin(request);
      const list = parseListQuery(query, userFields);
      const page = await id.users.list(list);
      setPageHeaders(request, reply, page.total, list);
      return page.items.map((r) => userModel(r));
    },
  });

  api.add({
    operationId: 'searchUsers',
    tag,
    method: 'GET',
    path: '/users/search',
    summary: 'Search users by name (any signed-in user, to add members).',
    query: z.object({ username: z.string().min(1), page: listParams.page, page_size: listParams.page_size }),
    status: 200,
    handler: async ({ query }, request, reply) => {
      currentUser(request);
      const list = parseListQuery({ page: query.page, page_size: query.page_size }, userFields);
      list.keywords.username = { kind: 'fuzzy', value: query.username };
      const page = await id.users.list(list);
      setPageHeaders(request, reply, page.total, list);
      return page.items.map((r) => ({ user_id: r.id, username: r.username }));
    },
  });

  api.add({
    operationId: 'getCurrentUserInfo',
    tag,
    method: 'GET',
    path: '/users/current',
    summary: 'The signed-in user (with the CLI secret of an OIDC user).',
    status: 200,
    handler: async (_input, request) => {
      const row = await id.users.get(currentUser(request).userId);
      return userModel(row, id.users.cliSecretOf(row));
    },
  });

  api.add({
    operationId: 'getCurrentUserPermissions',
    tag,
    method: 'GET',
    path: '/users/current/permissions',
    summary: "The caller's permissions in a scope (/project/<id> or /system).",
    query: z.object({ scope: z.string().optional(), relative: q.bool.optional() }),
    status: 200,
    handler: async ({ query }, request) => {
      const m = /^\/project\/(\d+)$/.exec(query.scope ?? '');
      const found = m ? await deps.projects.permissionsIn(subjectOf(request), Number(m[1])) : undefined;
      if (!found) return [];
      const { project, grants } = found;
      // Harbor's resources are paths: the project itself is `/project/<id>`, `.` relative to the scope.
      return grants.map(({ resource, action }) => {
        const self = resource === 'project';
        const path = self ? `/project/${project.id}` : `/project/${project.id}/${resource}`;
        return { resource: query.relative ? (self ? '.' : resource) : path, action };
      });
    },
  });

  api.add({
    operationId: 'getUser',
    tag,
    method: 'GET',
    path: '/users/{user_id}',
    summary: 'A user (self or system admin).',
    params: idParam,
    status: 200,
    handler: async ({ params }, request) => {
      selfOrAdmin(request, params.user_id);
      return userModel(await id.users.get(params.user_id));
    },
  });

  api.add({
    operationId: 'updateUserProfile',
    tag,
    method: 'PUT',
    path: '/users/{user_id}',
    summary: 'Update email, real name and comment (self or system admin).',
    params: idParam,
    body: z
      .object({
        email: z.string().optional(),
        realname: z.string().optional(),
        comment: z.string().optional(),
      })
      .strict(),
    status: 200,
    handler: async ({ params, body }, request) => {
      selfOrAdmin(request, params.user_id);
      await id.users.updateProfile(params.user_id, body);
      return undefined;
    },
  });

  api.add({
    operationId: 'deleteUser',
    tag,
    method: 'DELETE',
    path: '/users/{user_id}',
    summary: 'Delete a user and its memberships (system admin only).',
    params: idParam,
    status: 200,
    handler: async ({ params }, request) => {
      await id.users.delete(sysadmin(request), params.user_id);
      return undefined;
    },
  });

  api.add({
    operationId: 'updateUserPassword',
    tag,
    method: 'PUT',
    path: '/users/{user_id}/password',
    summary: "Change a password: one's own with the old password, anyone's as system admin.",
    params: idParam,
    body: z.object({ old_password: z.string().optional(), new_password: z.string() }).strict(),
    status: 200,
    handler: async ({ params, body }, request) => {
      const actor = selfOrAdmin(request, params.user_id);
      await id.users.changePassword(actor, params.user_id, body.old_password, body.new_password);
      return undefined;
    },
  });

  api.add({
    operationId: 'setUserSysAdmin',
    tag,
    method: 'PUT',
    path: '/users/{user_id}/sysadmin',
    summary: 'Grant or revoke the system admin role (system admin only).',
    params: idParam,
    body: z.object({ sysadmin_flag: z.boolean() }).strict(),
    status: 200,
    handler: async ({ params, body }, request) => {
      await id.users.setSysadmin(sysadmin(request), params.user_id, body.sysadmin_flag);
      return undefined;
    },
  });

  api.add({
    operationId: 'setCliSecret',
    tag,
    method: 'PUT',
    path: '/users/{user_id}/cli_secret',
    summary: "Set (or, with an empty secret, regenerate) an OIDC user's CLI secret (self or system admin).",
    params: idParam,
    body: z.object({ secret: z.string().optional() }).strict(),
    status: 200,
    handler: async ({ params, body }, request) => {
      selfOrAdmin(request, params.user_id);
      await id.users.setCliSecret(params.user_id, body.secret || undefined);
      return undefined;
    },
  });
}
