import { z } from 'zod';
import { labelFields } from '../../db/repos/labels.js';
import type { LabelRow } from '../../db/tables.js';
import { AppError } from '../../lib/errors.js';
import { contextOf } from '../context.js';
import { authorize } from './access.js';
import { renderLabel } from './artifact-render.js';
import type { ApiDeps } from './deps.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { labelModel } from './models.js';
import { authorizeInProject } from './project.js';
import { listParams, q, type ApiRouter } from './router.js';
import type { FastifyRequest } from 'fastify';

const labelBody = z
  .object({
    id: z.number().int().optional(),
    name: z.string().max(128).optional(),
    description: z.string().max(1024).optional(),
    color: z.string().max(32).optional(),
    scope: z.enum(['g', 'p']).optional(),
    project_id: z.number().int().min(0).optional(),
    creation_time: z.string().optional(),
    update_time: z.string().optional(),
  })
  .strict();

/** Global labels are system resources; project labels are the project's `label` resource. */
async function authorizeLabel(
  deps: ApiDeps,
  request: FastifyRequest,
  label: Pick<LabelRow, 'scope' | 'project_id'>,
  action: string,
) {
  if (label.scope === 'g')
    return authorize(request, deps.can, action, { scope: 'system', resource: 'label' });
  const project = await deps.projects.find(String(label.project_id), false);
  return authorizeInProject(deps, request, project, action, 'label');
}

/** The label a request names, after checking the caller may `action` it (NOT_FOUND first). */
async function labelFor(deps: ApiDeps, request: FastifyRequest, id: number, action: string) {
  const label = await deps.labels.find(id);
  await authorizeLabel(deps, request, label, action);
  return label;
}

export function labelRoutes(api: ApiRouter, deps: ApiDeps): void {
  const tag = 'label';
  api.add({
    operationId: 'ListLabels',
    tag,
    method: 'GET',
    path: '/labels',
    summary: 'List labels according to the query strings.',
    query: z.object({
      ...listParams,
      name: z.string().optional(),
      scope: z.enum(['g', 'p']).optional(),
      project_id: q.id.optional(),
    }),
    status: 200,
    response: z.array(labelModel),
    headers: ['X-Total-Count', 'Link'],
    handler: async ({ query }, request, reply) => {
      const list = parseListQuery(query, labelFields);
      const scope = query.scope ?? (query.project_id ? 'p' : 'g');
      list.keywords.scope = { kind: 'exact', value: scope };
      if (query.name) list.keywords.name = { kind: 'fuzzy', value: query.name };
      if (scope === 'p') {
        if (!query.project_id) throw new AppError('BAD_REQUEST', 'project_id is required for project labels');
        await authorizeLabel(deps, request, { scope: 'p', project_id: query.project_id }, 'list');
        list.keywords.project_id = { kind: 'exact', value: String(query.project_id) };
      }
      const page = await deps.labels.list(contextOf(request), list);
      setPageHeaders(request, reply, page.total, list);
      return page.items.map(renderLabel);
    },
  });

  api.add({
    operationId: 'CreateLabel',
    tag,
    method: 'POST',
    path: '/labels',
    summary: 'Post creates a label',
    body: labelBody,
    status: 201,
    headers: ['Location'],
    handler: async ({ body }, request, reply) => {
      const scope = body.scope ?? 'g';
      await authorizeLabel(deps, request, { scope, project_id: body.project_id ?? 0 }, 'create');
      const row = await deps.labels.create(contextOf(request), {
        name: body.name ?? '',
        description: body.description,
        color: body.color,
        scope,
        projectId: body.project_id,
      });
      reply.header('Location', `/api/v2.0/labels/${row.id}`);
      return undefined;
    },
  });

  const idParams = z.object({ label_id: q.id });
  api.add({
    operationId: 'GetLabelByID',
    tag,
    method: 'GET',
    path: '/labels/{label_id}',
    summary: 'Get the label specified by ID.',
    params: idParams,
    status: 200,
    response: labelModel,
    handler: async ({ params }, request) => {
      return renderLabel(await labelFor(deps, request, params.label_id, 'read'));
    },
  });

  api.add({
    operationId: 'UpdateLabel',
    tag,
    method: 'PUT',
    path: '/labels/{label_id}',
    summary: 'Update the label properties.',
    params: idParams,
    body: labelBody,
    status: 200,
    handler: async ({ params, body }, request) => {
      const label = await labelFor(deps, request, params.label_id, 'update');
      await deps.labels.update(contextOf(request), label, body);
      return undefined;
    },
  });

  api.add({
    operationId: 'DeleteLabel',
    tag,
    method: 'DELETE',
    path: '/labels/{label_id}',
    summary: 'Delete the label specified by ID.',
    params: idParams,
    status: 200,
    handler: async ({ params }, request) => {
      const label = await labelFor(deps, request, params.label_id, 'delete');
      await deps.labels.delete(contextOf(request), label);
      return undefined;
    },
  });
}
