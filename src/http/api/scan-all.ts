import { z } from 'zod';
import type { ScanAll, ScanAllSchedule } from '../../services/scanning/scan-all.js';
import { actorOf } from '../context.js';
import { authorize, type Can } from './access.js';
import type { ApiRouter } from './router.js';
import { scheduleBody } from './schedule-body.js';

const resource = { scope: 'system' as const, resource: 'scan-all' };

const stats = z.object({
  total: z.number().optional(),
  completed: z.number().optional(),
  metrics: z.record(z.string(), z.number()).optional(),
  ongoing: z.boolean().optional(),
  trigger: z.string().optional(),
});

/** Harbor's `scanAll` swagger tag: scan every artifact now or on a schedule, its metrics, stop. */
export function scanAllRoutes(api: ApiRouter, deps: { can: Can; scanAll: ScanAll }): void {
  const tag = 'scanAll';
  const { scanAll } = deps;

  api.add({
    operationId: 'createScanAllSchedule',
    tag,
    method: 'POST',
    path: '/system/scanAll/schedule',
    summary: 'Create a schedule or a manual trigger for the scan all job.',
    body: scheduleBody,
    status: 201,
    async handler({ body }, request) {
      await authorize(request, deps.can, 'create', resource);
      await scanAll.create(body.schedule.type, body.schedule.cron, actorOf(request).username);
      return undefined;
    },
  });

  api.add({
    operationId: 'updateScanAllSchedule',
    tag,
    method: 'PUT',
    path: '/system/scanAll/schedule',
    summary: "Update scan all's schedule.",
    body: scheduleBody,
    status: 200,
    async handler({ body }, request) {
      await authorize(request, deps.can, 'update', resource);
      await scanAll.update(body.schedule.type, body.schedule.cron);
      return undefined;
    },
  });

  api.add({
    operationId: 'getScanAllSchedule',
    tag,
    method: 'GET',
    path: '/system/scanAll/schedule',
    summary: "Get scan all's schedule ({} when there is none).",
    status: 200,
    async handler(_input, request) {
      await authorize(request, deps.can, 'read', resource);
      const schedule = await scanAll.schedule();
      // Harbor answers an empty body; {} is what its swagger allows and JSON clients can parse.
      return schedule ? scheduleView(schedule) : {};
    },
  });

  api.add({
    operationId: 'stopScanAll',
    tag,
    method: 'POST',
    path: '/system/scanAll/stop',
    summary: 'Stop scanAll job execution',
    status: 202,
    async handler(_input, request) {
      await authorize(request, deps.can, 'stop', resource);
      await scanAll.stop(actorOf(request).username);
      return undefined;
    },
  });

  api.add({
    operationId: 'getLatestScanAllMetrics',
    tag,
    method: 'GET',
    path: '/scans/all/metrics',
    summary: 'Get the metrics of the latest scan all process',
    status: 200,
    response: stats,
    async handler(_input, request) {
      await authorize(request, deps.can, 'read', resource);
      return scanAll.metrics();
    },
  });

  api.add({
    operationId: 'getLatestScheduledScanAllMetrics',
    tag,
    method: 'GET',
    path: '/scans/schedule/metrics',
    summary: 'Get the metrics of the latest scheduled scan all process (deprecated)',
    status: 200,
    response: stats,
    async handler(_input, request) {
      await authorize(request, deps.can, 'read', resource);
      return scanAll.metrics('SCHEDULE');
    },
  });
}

/** Harbor's `Schedule` model. */
function scheduleView(s: ScanAllSchedule) {
  return {
    id: s.id,
    status: '',
    schedule: { type: s.type, cron: s.cron, ...(s.nextFire ? { next_scheduled_time: s.nextFire } : {}) },
    parameters: {},
    creation_time: s.creationTime,
    update_time: s.updateTime,
  };
}
