import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../lib/errors.js';
import {
  exportCriteria,
  type ExportAccess,
  type ExportExecution,
  type ExportFile,
} from '../../services/scan-export/scan-exports.js';
import { requireAuthenticated, subjectOf } from './access.js';
import type { ApiDeps } from './deps.js';
import { projectFor } from './project.js';
import { q, type ApiRouter } from './router.js';

const executionModel = z.object({
  id: z.number().int(),
  user_id: z.number().int(),
  status: z.string(),
  trigger: z.string(),
  start_time: z.string(),
  end_time: z.string(),
  status_text: z.string(),
  user_name: z.string(),
  file_present: z.boolean(),
});

function render(e: ExportExecution): z.infer<typeof executionModel> {
  return {
    id: e.id,
    user_id: e.userId,
    status: e.status,
    trigger: e.trigger,
    start_time: e.startTime,
    // Harbor renders a zero time for a running execution.
    end_time: e.endTime ?? '0001-01-01T00:00:00.000Z',
    status_text: e.statusText,
    user_name: e.userName,
    file_present: e.filePresent,
  };
}

/** The check the service asks of the caller on an export's project: `action` on CVE exports in it. */
function exportAccess(deps: ApiDeps, request: FastifyRequest): ExportAccess {
  return async (projectId, action) => {
    await projectFor(deps, request, String(projectId), action, 'export-cve', false);
  };
}

/** Harbor's scan data export (swagger tag `scan data export`): CSV files of a project's vulnerabilities. */
export function scanDataExportRoutes(api: ApiRouter, deps: ApiDeps): void {
  const tag = 'scan data export';
  const params = z.object({ execution_id: q.id });

  api.add({
    operationId: 'exportScanData',
    tag,
    method: 'POST',
    path: '/export/cve',
    summary: 'Export scan data for selected projects',
    body: exportCriteria,
    status: 200,
    response: z.object({ id: z.number().int() }),
    handler: async ({ body }, request) => {
      const header = request.headers['x-scan-data-type'];
      const caller = subjectOf(request);
      const type = Array.isArray(header) ? header[0] : header;
      return { id: await deps.scanExports.request(caller, type, body, exportAccess(deps, request)) };
    },
  });

  api.add({
    operationId: 'getScanDataExportExecution',
    tag,
    method: 'GET',
    path: '/export/cve/execution/{execution_id}',
    summary: 'Get the specific scan data export execution',
    params,
    status: 200,
    response: executionModel,
    handler: async ({ params }, request) => {
      const caller = await requireAuthenticated(request, deps.can);
      return render(await deps.scanExports.getOwn(caller, params.execution_id, exportAccess(deps, request)));
    },
  });

  api.add({
    operationId: 'getScanDataExportExecutionList',
    tag,
    method: 'GET',
    path: '/export/cve/executions',
    summary: 'Get a list of specific scan data export execution jobs for a specified user',
    status: 200,
    response: z.object({ items: z.array(executionModel) }),
    handler: async (_input, request) => {
      const caller = await requireAuthenticated(request, deps.can);
      return { items: (await deps.scanExports.listOwn(caller, exportAccess(deps, request))).map(render) };
    },
  });

  api.add({
    operationId: 'downloadScanData',
    tag,
    method: 'GET',
    path: '/export/cve/download/{execution_id}',
    summary: 'Download the scan data export file',
    params,
    query: z.object({ format: z.string().max(16).optional() }),
    status: 200,
    handler: async ({ params }, request, reply) => {
      const caller = await requireAuthenticated(request, deps.can);
      let file: ExportFile;
      try {
        file = await deps.scanExports.download(caller, params.execution_id, exportAccess(deps, request));
      } catch (err) {
        // Harbor answers a missing execution, another user's and a missing file with a bare status.
        if (err instanceof AppError && err.code === 'NOT_FOUND') return reply.code(404).send();
        if (err instanceof AppError && err.code === 'FORBIDDEN' && err.message === '')
          return reply.code(403).send();
        throw err;
      }
      reply.raw.once('finish', () => void file.done());
      return reply
        .code(200)
        .type('text/csv')
        .header('Content-Disposition', `attachment; filename="${file.name}"`)
        .send(file.body);
    },
  });
}
