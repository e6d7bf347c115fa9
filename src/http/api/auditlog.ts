import { z } from 'zod';
import { auditFields } from '../../db/repos/audit.js';
import type { AuditLogRow } from '../../db/tables.js';
import { auditedResourceTypes } from '../audit-hook.js';
import { subjectOf } from './access.js';
import type { ApiDeps } from './deps.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { projectFor } from './project.js';
import { requireSignedIn } from './project-access.js';
import { listParams, type ApiRouter } from './router.js';

const projectParam = z.object({ project_name: z.string().min(1).max(255) });
const operations = ['create', 'update', 'delete', 'pull'];

function auditLogModel(row: AuditLogRow) {
  return {
    id: row.id,
    username: row.username,
    resource: row.resource,
    resource_type: row.resource_type,
    operation: row.operation,
    op_time: row.op_time,
  };
}

function auditLogExtModel(row: AuditLogRow) {
  return {
    ...auditLogModel(row),
    operation_description: `${row.operation} ${row.resource_type} ${row.resource}`.slice(0, 1100),
    operation_result: row.success === 1,
  };
}

/**
 * Harbor's `auditlog` tag (/audit-logs, /auditlog-exts, /auditlog-exts/events) and the project tag's
 * /projects/{project_name}/logs and /auditlog-exts. Newest first; `q` on operation, resource,
 * resource_type, username and op_time (a range). A system administrator (or a robot granted the system
 * audit-log) sees every row; anyone else sees the rows of projects where they may list logs.
 */
export function auditlogRoutes(api: ApiRouter, deps: ApiDeps): void {
  const audit = deps.identity!.audit;

  for (const [operationId, path, model] of [
    ['listAuditLogs', '/audit-logs', auditLogModel],
    ['listAuditLogExts', '/auditlog-exts', auditLogExtModel],
  ] as const) {
    api.add({
      operationId,
      tag: 'auditlog',
      method: 'GET',
      path,
      summary: 'Audit log rows the caller may see, newest first.',
      query: z.object(listParams),
      status: 200,
      headers: ['X-Total-Count', 'Link'],
      handler: async ({ query }, request, reply) => {
        const list = parseListQuery(query, auditFields);
        requireSignedIn(request);
        const { rows, total } = await audit.listFor(subjectOf(request), list);
        setPageHeaders(request, reply, total, list);
        return rows.map(model);
      },
    });
  }

  for (const [operationId, path, model] of [
    ['getLogs', '/projects/{project_name}/logs', auditLogModel],
    ['getLogExts', '/projects/{project_name}/auditlog-exts', auditLogExtModel],
  ] as const) {
    api.add({
      operationId,
      tag: 'project',
      method: 'GET',
      path,
      summary: "A project's audit log, newest first (project admins; never a Limited Guest).",
      params: projectParam,
      query: z.object(listParams),
      status: 200,
      headers: ['X-Total-Count', 'Link'],
      handler: async ({ params, query }, request, reply) => {
        const list = parseListQuery(query, auditFields);
        const project = await projectFor(deps, request, params.project_name, 'list', 'log', true);
        const { rows, total } = await audit.listOfProject(project.id, list);
        setPageHeaders(request, reply, total, list);
        return rows.map(model);
      },
    });
  }

  api.add({
    operationId: 'listAuditLogEventTypes',
    tag: 'auditlog',
    method: 'GET',
    path: '/auditlog-exts/events',
    summary: 'The event types audit log rows carry (<operation>_<resource type>).',
    status: 200,
    handler: async (_input, request, reply) => {
      requireSignedIn(request);
      const types = operations.flatMap((op) =>
        (op === 'pull' ? ['artifact'] : auditedResourceTypes).map((t) => ({ event_type: `${op}_${t}` })),
      );
      reply.header('X-Total-Count', String(types.length));
      return types;
    },
  });
}
