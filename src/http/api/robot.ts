import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { robotFields } from '../../db/repos/robots.js';
import { AppError } from '../../lib/errors.js';
import type { RobotView } from '../../services/access/robots.js';
import { authorize, subjectOf } from './access.js';
import type { ApiDeps } from './deps.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { projectFor } from './project.js';
import { requireSignedIn } from './project-access.js';
import { listParams, q, type ApiRouter } from './router.js';

const tag = 'robot';
const idParam = z.object({ robot_id: q.id });
const access = z
  .object({
    resource: z.string().min(1).max(64),
    action: z.string().min(1).max(64),
    effect: z.string().optional(),
  })
  .strict();
const permission = z
  .object({ kind: z.string(), namespace: z.string().min(1).max(255), access: z.array(access).max(500) })
  .strict();
const robotCreate = z
  .object({
    name: z.string().min(1).max(255),
    description: z.string().optional(),
    secret: z.string().optional(),
    level: z.string(),
    disable: z.boolean().optional(),
    duration: z.number().int().nullable().optional(),
    permissions: z.array(permission).min(1).max(100),
  })
  .strict();
/** Harbor's `Robot` as GET returns it: clients (and the portal) send it back whole, read-only fields too. */
const robotUpdate = z
  .object({
    id: z.number().int().optional(),
    name: z.string().optional(),
    description: z.string().optional(),
    secret: z.string().optional(),
    level: z.string().optional(),
    duration: z.number().int().nullable().optional(),
    editable: z.boolean().optional(),
    disable: z.boolean().optional(),
    expires_at: z.number().int().optional(),
    permissions: z.array(permission).min(1).max(100).optional(),
    creator_type: z.string().optional(),
    creator_ref: z.number().int().optional(),
    creation_time: z.string().optional(),
    update_time: z.string().optional(),
  })
  .strict();

export function robotModel(v: RobotView) {
  return {
    id: v.row.id,
    name: v.fullName,
    description: v.row.description,
    level: v.row.level,
    duration: v.row.duration,
    editable: true,
    disable: v.row.disabled === 1,
    expires_at: v.row.expires_at,
    permissions: v.permissions,
    creator_type: v.creator.type,
    creator_ref: v.creator.ref,
    creation_time: v.row.creation_time,
    update_time: v.row.update_time,
  };
}

/** Harbor's `robot` tag: /robots… for system robots and (level "project") project robots. */
export function robotRoutes(api: ApiRouter, deps: ApiDeps): void {
  const robots = deps.identity!.robots;

  /** The permission a robot operation needs: system `robot:<action>`, or the project's. */
  async function requireRobotAccess(
    request: FastifyRequest,
    level: string,
    project: { id: number } | { name: string } | undefined,
    action: string,
  ): Promise<number | undefined> {
    requireSignedIn(request);
    if (level === 'system') {
      await authorize(request, deps.can, action, { scope: 'system', resource: 'robot' });
      return undefined;
    }
    if (level !== 'project' || !project)
      throw new AppError('BAD_REQUEST', 'level must be "system" or "project"');
    const ref = 'id' in project ? String(project.id) : project.name;
    const row = await projectFor(deps, request, ref, action, 'robot', !('id' in project));
    return row.id;
  }

  api.add({
    operationId: 'ListRobot',
    tag,
    method: 'GET',
    path: '/robots',
    summary: "List system robots, or a project's robots with q=Level=project,ProjectID=<id>.",
    query: z.object(listParams),
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    handler: async ({ query }, request, reply) => {
      requireSignedIn(request);
      const list = parseListQuery(query, robotFields);
      const { Level: levelKw, ProjectID: projectKw, ...keywords } = list.keywords;
      if (levelKw && levelKw.kind !== 'exact')
        throw new AppError('BAD_REQUEST', 'Level takes one exact value');
      if (projectKw && projectKw.kind !== 'exact')
        throw new AppError('BAD_REQUEST', 'ProjectID takes one exact value');
      const level = levelKw?.value ?? 'system';
      if (level !== 'system' && level !== 'project')
        throw new AppError('BAD_REQUEST', `bad level "${level.slice(0, 40)}": system or project`);
      if (level === 'project' && !projectKw)
        throw new AppError('BAD_REQUEST', 'listing project robots needs ProjectID in q');
      const projectId = await requireRobotAccess(
        request,
        level,
        projectKw ? { id: Number(projectKw.value) } : undefined,
        'list',
      );
      const page = await robots.list(level, projectId, { ...list, keywords });
      setPageHeaders(request, reply, page.total, list);
      return page.items.map(robotModel);
    },
  });

  api.add({
    operationId: 'CreateRobot',
    tag,
    method: 'POST',
    path: '/robots',
    summary: 'Create a robot account; its secret is in the answer and never shown again.',
    body: robotCreate,
    status: 201,
    handler: async ({ body }, request, reply) => {
      requireSignedIn(request);
      robots.validate(body);
      await requireRobotAccess(request, body.level, { name: body.permissions[0]!.namespace }, 'create');
      const created = await robots.create(body, subjectOf(request));
      reply.header('Location', `/api/v2.0/robots/${created.id}`);
      return {
        id: created.id,
        name: created.name,
        secret: created.secret,
        creation_time: created.row.creation_time,
        expires_at: created.row.expires_at,
      };
    },
  });

  /** The robot, once the caller may do `action` on robots at its level (NOT_FOUND before FORBIDDEN). */
  async function robotFor(request: FastifyRequest, id: number, action: string): Promise<RobotView> {
    requireSignedIn(request);
    const view = await robots.get(id);
    const project = view.row.project_id === null ? undefined : { id: view.row.project_id };
    await requireRobotAccess(request, view.row.level, project, action);
    return view;
  }

  api.add({
    operationId: 'GetRobotByID',
    tag,
    method: 'GET',
    path: '/robots/{robot_id}',
    summary: 'One robot account (without its secret).',
    params: idParam,
    status: 200,
    handler: async ({ params }, request) => robotModel(await robotFor(request, params.robot_id, 'read')),
  });

  api.add({
    operationId: 'UpdateRobot',
    tag,
    method: 'PUT',
    path: '/robots/{robot_id}',
    summary: 'Change description, disable, duration or permissions; name and level stay.',
    params: idParam,
    body: robotUpdate,
    status: 200,
    handler: async ({ params, body }, request) => {
      await robotFor(request, params.robot_id, 'update');
      await robots.update(params.robot_id, body, subjectOf(request));
      return undefined;
    },
  });

  api.add({
    operationId: 'RefreshSec',
    tag,
    method: 'PATCH',
    path: '/robots/{robot_id}',
    summary: 'Refresh the secret: a random one is returned; a given one is set and not echoed.',
    params: idParam,
    body: z.object({ secret: z.string().optional() }).strict().optional(),
    status: 200,
    handler: async ({ params, body }, request) => {
      await robotFor(request, params.robot_id, 'update');
      const { secret, generated } = await robots.refreshSecret(params.robot_id, body?.secret);
      return generated ? { secret } : {};
    },
  });

  api.add({
    operationId: 'DeleteRobot',
    tag,
    method: 'DELETE',
    path: '/robots/{robot_id}',
    summary: 'Delete a robot account; its secret stops working at once.',
    params: idParam,
    status: 200,
    handler: async ({ params }, request) => {
      await robotFor(request, params.robot_id, 'delete');
      await robots.delete(params.robot_id);
      return undefined;
    },
  });
}
