import { z } from 'zod';
import type { MemberView } from '../../db/repos/members.js';
import { offsetOf } from '../../lib/query.js';
import { roleById } from '../../services/access/rbac.js';
import type { ApiDeps } from './deps.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { projectFor } from './project.js';
import { listParams, q, type ApiRouter } from './router.js';

const tag = 'member';
const projectRef = z.object({ project_name_or_id: z.string().min(1).max(255) });
const memberRef = projectRef.extend({ mid: q.id });
const roleNames: Record<string, string> = {
  projectAdmin: 'projectAdmin',
  maintainer: 'maintainer',
  developer: 'developer',
  guest: 'guest',
  limitedGuest: 'limitedGuest',
};

function memberModel(m: MemberView) {
  return {
    id: m.id,
    project_id: m.project_id,
    entity_name: m.entity_name,
    role_name: roleNames[roleById(m.role_id) ?? ''] ?? '',
    role_id: m.role_id,
    entity_id: m.entity_id,
    entity_type: m.entity_type,
  };
}

/** Harbor's `member` tag: /projects/{project_name_or_id}/members… Changes apply from the next token. */
export function memberRoutes(api: ApiRouter, deps: ApiDeps): void {
  const id = deps.identity!;
  api.add({
    operationId: 'listProjectMembers',
    tag,
    method: 'GET',
    path: '/projects/{project_name_or_id}/members',
    summary: 'List the members of a project.',
    params: projectRef,
    query: z.object({
      entityname: z.string().optional(),
      page: listParams.page,
      page_size: listParams.page_size,
    }),
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    handler: async ({ params, query }, request, reply) => {
      const project = await projectFor(deps, request, params.project_name_or_id, 'list', 'member');
      const page = parseListQuery({ page: query.page, page_size: query.page_size }, {});
      const { rows, total } = await id.members.list(project.id, {
        entityName: query.entityname,
        offset: offsetOf(page),
        limit: page.pageSize,
      });
      setPageHeaders(request, reply, total, page);
      return rows.map(memberModel);
    },
  });

  api.add({
    operationId: 'createProjectMember',
    tag,
    method: 'POST',
    path: '/projects/{project_name_or_id}/members',
    summary: 'Add a user or a user group to a project with a role.',
    params: projectRef,
    body: z
      .object({
        role_id: z.number().int(),
        member_user: z
          .object({ user_id: z.number().int().optional(), username: z.string().optional() })
          .optional(),
        member_group: z
          .object({
            id: z.number().int().optional(),
            group_name: z.string().optional(),
            group_type: z.number().int().optional(),
            ldap_group_dn: z.string().optional(),
          })
          .optional(),
      })
      .strict(),
    status: 201,
    handler: async ({ params, body }, request, reply) => {
      const project = await projectFor(deps, request, params.project_name_or_id, 'create', 'member');
      const memberId = await id.members.add(project.id, {
        roleId: body.role_id,
        user: body.member_user && { userId: body.member_user.user_id, username: body.member_user.username },
        group: body.member_group && {
          id: body.member_group.id,
          groupName: body.member_group.group_name,
          groupType: body.member_group.group_type,
          ldapGroupDn: body.member_group.ldap_group_dn,
        },
      });
      reply.header('Location', `/api/v2.0/projects/${project.id}/members/${memberId}`);
      return undefined;
    },
  });

  api.add({
    operationId: 'getProjectMember',
    tag,
    method: 'GET',
    path: '/projects/{project_name_or_id}/members/{mid}',
    summary: 'One member of a project.',
    params: memberRef,
    status: 200,
    handler: async ({ params }, request) => {
      const project = await projectFor(deps, request, params.project_name_or_id, 'read', 'member');
      return memberModel(await id.members.get(project.id, params.mid));
    },
  });

  api.add({
    operationId: 'updateProjectMember',
    tag,
    method: 'PUT',
    path: '/projects/{project_name_or_id}/members/{mid}',
    summary: "Change a member's role.",
    params: memberRef,
    body: z.object({ role_id: z.number().int() }).strict(),
    status: 200,
    handler: async ({ params, body }, request) => {
      const project = await projectFor(deps, request, params.project_name_or_id, 'update', 'member');
      await id.members.updateRole(project.id, params.mid, body.role_id);
      return undefined;
    },
  });

  api.add({
    operationId: 'deleteProjectMember',
    tag,
    method: 'DELETE',
    path: '/projects/{project_name_or_id}/members/{mid}',
    summary: 'Remove a member from a project.',
    params: memberRef,
    status: 200,
    handler: async ({ params }, request) => {
      const project = await projectFor(deps, request, params.project_name_or_id, 'delete', 'member');
      await id.members.remove(project.id, params.mid);
      return undefined;
    },
  });
}
