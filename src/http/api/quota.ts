import { z } from 'zod';
import { contextOf } from '../context.js';
import { authorize } from './access.js';
import type { ApiDeps } from './deps.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { quotaModel } from './models.js';
import { listParams, q, type ApiRouter } from './router.js';
import type { ProjectQuota } from '../../services/projects/project-service.js';

/** Storage quotas, one per project (its id is the project's), enforced on push by QuotaService. */
export function quotaRoutes(api: ApiRouter, deps: ApiDeps): void {
  const tag = 'quota';
  const render = ({ view: { row, ownerName }, hard, used, creationTime, updateTime }: ProjectQuota) => ({
    id: row.id,
    ref: { id: row.id, name: row.name, owner_name: ownerName },
    hard: { storage: hard },
    used: { storage: used },
    creation_time: creationTime ?? row.creation_time,
    update_time: updateTime ?? row.update_time,
  });

  api.add({
    operationId: 'listQuotas',
    tag,
    method: 'GET',
    path: '/quotas',
    summary: 'List quotas',
    query: z.object({
      ...listParams,
      reference: z.enum(['project']).optional(),
      reference_id: z.string().max(255).optional(),
    }),
    status: 200,
    response: z.array(quotaModel),
    headers: ['X-Total-Count', 'Link'],
    handler: async ({ query }, request, reply) => {
      await authorize(request, deps.can, 'list', { scope: 'system', resource: 'quota' });
      const list = parseListQuery({ page: query.page, page_size: query.page_size }, {});
      if (query.reference_id !== undefined) {
        if (!/^\d{1,10}$/.test(query.reference_id)) return [];
        list.keywords.project_id = { kind: 'exact', value: query.reference_id };
      }
      const page = await deps.projects.quotaPage(contextOf(request), list);
      setPageHeaders(request, reply, page.total, list);
      return page.items.map(render);
    },
  });

  api.add({
    operationId: 'getQuota',
    tag,
    method: 'GET',
    path: '/quotas/{id}',
    summary: 'Get the specified quota',
    params: z.object({ id: q.id }),
    status: 200,
    response: quotaModel,
    handler: async ({ params }, request) => {
      await authorize(request, deps.can, 'read', { scope: 'system', resource: 'quota' });
      return render(await deps.projects.getQuota(contextOf(request), params.id));
    },
  });

  api.add({
    operationId: 'updateQuota',
    tag,
    method: 'PUT',
    path: '/quotas/{id}',
    summary: 'Update hard limits of the specified quota',
    params: z.object({ id: q.id }),
    // Values are checked by the service, so a bad one is answered with Harbor's message naming the field.
    body: z.object({ hard: z.record(z.string(), z.unknown()).optional() }),
    status: 200,
    handler: async ({ params, body }, request) => {
      await authorize(request, deps.can, 'update', { scope: 'system', resource: 'quota' });
      await deps.projects.updateQuota(contextOf(request), params.id, body.hard);
      return undefined;
    },
  });
}
