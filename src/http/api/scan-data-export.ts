import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../lib/errors.js';
import { exportCriteria, type ExportExecution } from '../../services/scan-export/scan-exports.js';
import { requireAuthenticated } from './access.js';
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

/** Harbor's check on an export's projects: the caller must still read CVE exports in each. */
async function readableProjects(deps: ApiDeps, request: FastifyRequest, ids: number[]): Promise<void> {
  for (const id of new Set(ids)) await projectFor(deps, request, String(id), 'read', 'export-cve', false);
}

/** Harbor's scan data export (swagger tag `scan data export`): CSV files of a project's vulnerabilities. */
export function scanDataExportRoutes(api: ApiRouter, deps: ApiDeps): void {
  const tag = 'scan data export';
  const params = z.object({ execution_id: q.id });

  /** The execution, when it is the caller's: Harbor answers another user's with a bare 403. */
  async function own(request: FastifyRequest, id: number): Promise<ExportExecution> {
    const subject = await requireAuthenticated(request, deps.can);
    const execution = await deps.scanExports.get(id);
    await readableProjects(deps, request, execution.projectIds);
    const name = subject.kind === 'user' ? subject.username : subject.kind === 'robot' ? subject.name : '';
    if (name !== execution.userName) throw new AppError('FORBIDDEN', '');
    return execution;
  }

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
      const projectId = await deps.scanExports.validate(Array.isArray(header) ? header[0] : header, body);
      await projectFor(deps, request, String(projectId), 'create', 'export-cve', false);
      const subject = await requireAuthenticated(request, deps.can);
      if (subject.kind !== 'user')
        throw new AppError('FORBIDDEN', `User : ${subject.kind === 'robot' ? subject.name : ''} not found`);
      return {
        id: await deps.scanExports.start({ id: subject.userId, name: subject.username }, projectId, body),
      };
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
    handler: async ({ params }, request) => render(await own(request, params.execution_id)),
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
      const subject = await requireAuthenticated(request, deps.can);
      const items = subject.kind === 'user' ? await deps.scanExports.list(subject.userId) : [];
      await readableProjects(
        deps,
        request,
        items.flatMap((e) => e.projectIds),
      );
      return { items: items.map(render) };
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
      let execution: ExportExecution;
      try {
        execution = await own(request, params.execution_id);
      } catch (err) {
        // Harbor answers a missing execution, another user's and a missing file with a bare status.
        if (err instanceof AppError && err.code === 'NOT_FOUND') return reply.code(404).send();
        if (err instanceof AppError && err.code === 'FORBIDDEN' && err.message === '')
          return reply.code(403).send();
        throw err;
      }
      if (!execution.filePresent) return reply.code(404).send();
      const file = await deps.scanExports.download(execution);
      reply.raw.once('finish', () => void file.done());
      return reply
        .code(200)
        .type('text/csv')
        .header('Content-Disposition', `attachment; filename="${file.name}"`)
        .send(file.body);
    },
  });
}
