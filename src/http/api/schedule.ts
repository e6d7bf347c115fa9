import { z } from 'zod';
import type { JobMonitor } from '../../jobs/monitor.js';
import { AppError } from '../../lib/errors.js';
import { authorize, type Can } from './access.js';
import { offsetOf } from '../../lib/query.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { requireSignedIn } from './project-access.js';
import { listParams, type ApiRouter } from './router.js';

/** The vendor id Harbor shows for a schedule: the trailing number of its name (a policy id), else -1. */
function vendorIdOf(name: string): number {
  const m = /\.(\d+)$/.exec(name);
  return m ? Number(m[1]) : -1;
}

/** Harbor's `schedule` tag: the cron schedules, and whether the scheduler is paused. */
export function scheduleRoutes(api: ApiRouter, deps: { can: Can; jobMonitor: JobMonitor }): void {
  const tag = 'schedule';

  api.add({
    operationId: 'listSchedules',
    tag,
    method: 'GET',
    path: '/schedules',
    summary: 'List schedules',
    query: z.object({ page: listParams.page, page_size: listParams.page_size }),
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    async handler({ query }, request, reply) {
      await authorize(request, deps.can, 'list', { scope: 'system', resource: 'jobservice-monitor' });
      const page = parseListQuery(query, {});
      const { rows, total } = await deps.jobMonitor.schedules({
        offset: offsetOf(page),
        limit: page.pageSize,
      });
      setPageHeaders(request, reply, total, page);
      return rows.map((s) => ({
        id: s.id,
        vendor_type: s.kind,
        vendor_id: vendorIdOf(s.name),
        cron: s.cron,
        update_time: s.update_time,
      }));
    },
  });

  api.add({
    operationId: 'getSchedulePaused',
    tag,
    method: 'GET',
    path: '/schedules/{job_type}/paused',
    summary: 'Whether the scheduler is paused (job_type must be `all`)',
    params: z.object({ job_type: z.string().min(1).max(64) }),
    status: 200,
    async handler({ params }, request) {
      requireSignedIn(request);
      if (params.job_type.toLowerCase() !== 'all')
        throw new AppError('BAD_REQUEST', "job_type can only be 'all'");
      return { paused: await deps.jobMonitor.schedulerPaused() };
    },
  });
}
