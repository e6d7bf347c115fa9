import { z } from 'zod';
import type { UserGroupRow } from '../../db/tables.js';
import { offsetOf } from '../../lib/query.js';
import { authorize } from './access.js';
import type { ApiDeps } from './deps.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { requireSignedIn } from './project-access.js';
import { listParams, q, type ApiRouter } from './router.js';

const tag = 'usergroup';
const idParam = z.object({ group_id: q.id });
const groupBody = z
  .object({
    id: z.number().int().optional(),
    group_name: z.string().optional(),
    group_type: z.number().int().optional(),
    ldap_group_dn: z.string().optional(),
  })
  .strict();
const system = { scope: 'system', resource: 'user-group' } as const;

function groupModel(row: UserGroupRow) {
  return {
    id: row.id,
    group_name: row.group_name,
    group_type: row.group_type,
    ldap_group_dn: row.ldap_group_dn,
  };
}

/** Harbor's `usergroup` tag: /usergroups… (system administrators; search for any signed-in user). */
export function usergroupRoutes(api: ApiRouter, deps: ApiDeps): void {
  const groups = deps.identity!.groups;

  api.add({
    operationId: 'listUserGroups',
    tag,
    method: 'GET',
    path: '/usergroups',
    summary: 'List user groups (in ldap_auth mode, LDAP groups only).',
    query: z.object({
      page: listParams.page,
      page_size: listParams.page_size,
      group_name: z.string().max(255).optional(),
      ldap_group_dn: z.string().max(1024).optional(),
    }),
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    handler: async ({ query }, request, reply) => {
      await authorize(request, deps.can, 'list', system);
      const page = parseListQuery(query, {});
      const { rows, total } = await groups.list({
        groupName: query.group_name,
        ldapGroupDn: query.ldap_group_dn,
        offset: offsetOf(page),
        limit: page.pageSize,
      });
      setPageHeaders(request, reply, total, page);
      return rows.map(groupModel);
    },
  });

  api.add({
    operationId: 'createUserGroup',
    tag,
    method: 'POST',
    path: '/usergroups',
    summary: 'Create a user group.',
    body: groupBody,
    status: 201,
    handler: async ({ body }, request, reply) => {
      await authorize(request, deps.can, 'create', system);
      const id = await groups.create(body);
      reply.header('Location', `/api/v2.0/usergroups/${id}`);
      return undefined;
    },
  });

  api.add({
    operationId: 'searchUserGroups',
    tag,
    method: 'GET',
    path: '/usergroups/search',
    summary: 'Search groups by name (any signed-in user, to add members).',
    query: z.object({
      groupname: z.string().min(1).max(255),
      page: listParams.page,
      page_size: listParams.page_size,
    }),
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    handler: async ({ query }, request, reply) => {
      requireSignedIn(request);
      const page = parseListQuery({ page: query.page, page_size: query.page_size }, {});
      const { rows, total } = await groups.list({
        groupName: query.groupname,
        offset: offsetOf(page),
        limit: page.pageSize,
      });
      setPageHeaders(request, reply, total, page);
      return rows.map((r) => ({ id: r.id, group_name: r.group_name, group_type: r.group_type }));
    },
  });

  api.add({
    operationId: 'getUserGroup',
    tag,
    method: 'GET',
    path: '/usergroups/{group_id}',
    summary: 'One user group.',
    params: idParam,
    status: 200,
    handler: async ({ params }, request) => {
      await authorize(request, deps.can, 'read', system);
      return groupModel(await groups.get(params.group_id));
    },
  });

  api.add({
    operationId: 'updateUserGroup',
    tag,
    method: 'PUT',
    path: '/usergroups/{group_id}',
    summary: 'Rename a user group (its type and DN stay).',
    params: idParam,
    body: groupBody,
    status: 200,
    handler: async ({ params, body }, request) => {
      await authorize(request, deps.can, 'update', system);
      await groups.update(params.group_id, body);
      return undefined;
    },
  });

  api.add({
    operationId: 'deleteUserGroup',
    tag,
    method: 'DELETE',
    path: '/usergroups/{group_id}',
    summary: 'Delete a user group and its project memberships.',
    params: idParam,
    status: 200,
    handler: async ({ params }, request) => {
      await authorize(request, deps.can, 'delete', system);
      await groups.delete(params.group_id);
      return undefined;
    },
  });
}
