import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { projectFields } from '../../db/repos/project-catalog.js';
import type { ProjectRow } from '../../db/tables.js';
import { AppError } from '../../lib/errors.js';
import type { ProjectView } from '../../services/projects/project-service.js';
import { maxProjectNameLength } from '../../services/projects/project-service.js';
import type { Target } from '../../services/access/subject.js';
import { contextOf } from '../context.js';
import { authorize, requireAuthenticated, subjectOf } from './access.js';
import type { ApiDeps } from './deps.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { projectModel, projectSummaryModel } from './models.js';
import { listParams, q, type ApiRouter } from './router.js';
import { cveAllowlistBody } from './system-cve-allowlist.js';

const projectRef = z.object({ project_name_or_id: z.string().min(1).max(maxProjectNameLength) });
const metadataInput = z.record(z.string(), z.string().nullable());
const projectReq = z
  .object({
    project_name: z.string().max(maxProjectNameLength).optional(),
    public: z.boolean().nullable().optional(),
    metadata: metadataInput.optional(),
    // Harbor's CVEAllowlist; fields it does not know are ignored, as Harbor's UI sends back what it read.
    cve_allowlist: z.object(cveAllowlistBody.shape).optional(),
    storage_limit: z.number().nullable().optional(),
    registry_id: z.number().int().nullable().optional(),
  })
  .strict();

export function projectTarget(row: ProjectRow, resource = 'project'): Target {
  return { scope: 'project', project: { id: row.id, name: row.name, public: row.public === 1 }, resource };
}

/** The project a request names, after checking the caller may do `action` on its `resource`. */
export async function projectFor(
  deps: ApiDeps,
  request: FastifyRequest,
  ref: string,
  action: string,
  resource = 'project',
  byName = request.headers['x-is-resource-name'] === 'true',
): Promise<ProjectRow> {
  const row = await deps.projects.find(ref, byName);
  await authorizeInProject(deps, request, row, action, resource, ref);
  return row;
}

/**
 * `authorize` inside a project, except that a caller who may not even read the project (a private one
 * they are no member of) gets the very answer a missing project gets: its existence is not revealed
 * (AccessControl.projectAccess, the rule /v2 follows too). Past that, anonymous callers get UNAUTHORIZED
 * and others FORBIDDEN.
 */
export async function authorizeInProject(
  deps: ApiDeps,
  request: FastifyRequest,
  row: ProjectRow,
  action: string,
  resource: string,
  ref: string = row.name,
): Promise<void> {
  const subject = subjectOf(request);
  const verdict = await deps.projectAccess(subject, row, action, resource);
  if (verdict === 'allowed') return;
  if (verdict === 'hidden') throw new AppError('NOT_FOUND', `project ${ref} not found`);
  if (subject.kind === 'anonymous') throw new AppError('UNAUTHORIZED', 'authentication required');
  throw new AppError('FORBIDDEN', `not allowed to ${action} ${resource}`);
}

export function renderProject({ row, repoCount, metadata, ownerName, cveAllowlist }: ProjectView) {
  return {
    project_id: row.id,
    owner_id: row.owner_id ?? 0,
    name: row.name,
    creation_time: row.creation_time,
    update_time: row.update_time,
    deleted: false,
    owner_name: ownerName,
    togglable: true,
    current_user_role_id: 0,
    current_user_role_ids: [] as number[],
    repo_count: repoCount,
    ...(row.registry_id ? { registry_id: row.registry_id } : {}),
    metadata,
    cve_allowlist: {
      id: 0,
      creation_time: row.creation_time,
      update_time: row.update_time,
      ...cveAllowlist,
      // Harbor omits expires_at when the list never expires.
      expires_at: cveAllowlist.expires_at ?? undefined,
    },
  };
}

export function projectRoutes(api: ApiRouter, deps: ApiDeps): void {
  const tag = 'project';
  api.add({
    operationId: 'listProjects',
    tag,
    method: 'GET',
    path: '/projects',
    summary: 'List projects',
    query: z.object({
      ...listParams,
      name: z.string().optional(),
      public: q.bool.optional(),
      owner: z.string().optional(),
      with_detail: q.bool.optional(),
    }),
    status: 200,
    response: z.array(projectModel),
    headers: ['X-Total-Count', 'Link'],
    handler: async ({ query }, request, reply) => {
      const list = parseListQuery(query, projectFields);
      if (query.name) list.keywords.name = { kind: 'fuzzy', value: query.name };
      if (query.public !== undefined) list.keywords.public = { kind: 'exact', value: String(query.public) };
      const page = await deps.projects.list(contextOf(request), subjectOf(request), list, {
        owner: query.owner,
      });
      setPageHeaders(request, reply, page.total, list);
      return page.items.map(renderProject);
    },
  });

  api.add({
    operationId: 'headProject',
    tag,
    method: 'HEAD',
    path: '/projects',
    summary: 'Check if the project name user provided already exists.',
    query: z.object({ project_name: z.string().min(1).max(maxProjectNameLength) }),
    status: 200,
    handler: async ({ query }, request) => {
      await requireAuthenticated(request, deps.can);
      if (!(await deps.projects.exists(query.project_name)))
        throw new AppError('NOT_FOUND', `project ${query.project_name} not found`);
      return undefined;
    },
  });

  api.add({
    operationId: 'createProject',
    tag,
    method: 'POST',
    path: '/projects',
    summary: 'Create a new project.',
    body: projectReq,
    status: 201,
    headers: ['Location'],
    handler: async ({ body }, request, reply) => {
      const subject = await requireAuthenticated(request, deps.can);
      await authorize(request, deps.can, 'create', { scope: 'system', resource: 'project' });
      const row = await deps.projects.create(contextOf(request), subject, {
        name: body.project_name,
        public: body.public,
        metadata: body.metadata,
        storageLimit: body.storage_limit,
        registryId: body.registry_id ?? undefined,
      });
      reply.header('Location', `/api/v2.0/projects/${row.id}`);
      return undefined;
    },
  });

  api.add({
    operationId: 'getProject',
    tag,
    method: 'GET',
    path: '/projects/{project_name_or_id}',
    summary: 'Return specific project detail information',
    params: projectRef,
    status: 200,
    response: projectModel,
    handler: async ({ params }, request) => {
      const row = await projectFor(deps, request, params.project_name_or_id, 'read');
      return renderProject(await deps.projects.view(row));
    },
  });

  api.add({
    operationId: 'updateProject',
    tag,
    method: 'PUT',
    path: '/projects/{project_name_or_id}',
    summary: 'Update properties for a selected project.',
    params: projectRef,
    body: projectReq,
    status: 200,
    handler: async ({ params, body }, request) => {
      const row = await projectFor(deps, request, params.project_name_or_id, 'update');
      await deps.projects.update(contextOf(request), subjectOf(request), row, {
        name: body.project_name,
        public: body.public,
        metadata: body.metadata,
        storageLimit: body.storage_limit,
        cveAllowlist: body.cve_allowlist,
      });
      return undefined;
    },
  });

  api.add({
    operationId: 'deleteProject',
    tag,
    method: 'DELETE',
    path: '/projects/{project_name_or_id}',
    summary: 'Delete project by projectID',
    params: projectRef,
    status: 200,
    handler: async ({ params }, request) => {
      const row = await projectFor(deps, request, params.project_name_or_id, 'delete');
      await deps.projects.delete(contextOf(request), row);
      return undefined;
    },
  });

  api.add({
    operationId: 'getProjectDeletable',
    tag,
    method: 'GET',
    path: '/projects/{project_name_or_id}/_deletable',
    summary: 'Get the deletable status of the project',
    params: projectRef,
    status: 200,
    response: z.object({ deletable: z.boolean(), message: z.string() }),
    handler: async ({ params }, request) => {
      const row = await projectFor(deps, request, params.project_name_or_id, 'delete');
      return deps.projects.deletable(row);
    },
  });

  api.add({
    operationId: 'getProjectSummary',
    tag,
    method: 'GET',
    path: '/projects/{project_name_or_id}/summary',
    summary: 'Get summary of the project.',
    params: projectRef,
    status: 200,
    response: projectSummaryModel,
    handler: async ({ params }, request) => {
      const row = await projectFor(deps, request, params.project_name_or_id, 'read');
      const s = await deps.projects.summary(row);
      const members = s.members;
      return {
        ...(s.upstream ? { registry: s.upstream } : {}),
        repo_count: s.repoCount,
        project_admin_count: members.projectAdmin,
        maintainer_count: members.maintainer,
        developer_count: members.developer,
        guest_count: members.guest,
        limited_guest_count: members.limitedGuest,
        quota: { hard: { storage: s.hardStorage }, used: { storage: s.usedStorage } },
      };
    },
  });
}
