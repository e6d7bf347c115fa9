import { z } from 'zod';
import {
  paramAttrs,
  type GcExecution,
  type GcSchedule,
  type GcService,
} from '../../services/gc/gc-service.js';
import { authorize, type Can } from './access.js';
import { offsetOf } from '../../lib/query.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { scheduleBody, type ScheduleBody } from './schedule-body.js';
import { listParams, q, type ApiRouter } from './router.js';

const resource = { scope: 'system' as const, resource: 'garbage-collection' };
const gcParams = z.object({ gc_id: q.id });

/** GC's parameters in Harbor's Schedule body. */
const gcParameters = z.object({
  delete_untagged: z.boolean().optional(),
  dry_run: z.boolean().optional(),
  workers: z.number().int().min(1).max(10).optional(),
});

const scheduleObj = z.object({
  type: z.string(),
  cron: z.string().optional(),
  next_scheduled_time: z.string().optional(),
});
const gcHistory = z.object({
  id: z.number(),
  job_name: z.string(),
  job_kind: z.string(),
  job_parameters: z.string(),
  schedule: scheduleObj,
  job_status: z.string(),
  deleted: z.boolean(),
  creation_time: z.string(),
  update_time: z.string(),
});

/** Harbor's `gc` swagger tag: run now (dry run too), schedule, history, one run, its log, stop. */
export function gcRoutes(api: ApiRouter, deps: { can: Can; gc: GcService }): void {
  const tag = 'gc';
  const { gc } = deps;

  /** Harbor's `kick`: Manual starts a run, None removes the schedule, the others set it. */
  async function kick(body: ScheduleBody): Promise<number | undefined> {
    const p = gcParameters.parse(body.parameters ?? {});
    const params = {
      deleteUntagged: p.delete_untagged ?? false,
      dryRun: p.dry_run ?? false,
      workers: p.workers ?? 1,
    };
    const type = body.schedule.type;
    if (type === 'Manual') return gc.start(params);
    await gc.setSchedule(type === 'Schedule' ? 'Custom' : type, body.schedule.cron, params);
    return undefined;
  }

  api.add({
    operationId: 'createGCSchedule',
    tag,
    method: 'POST',
    path: '/system/gc/schedule',
    summary: 'Create a gc schedule, or run garbage collection now (type Manual)',
    body: scheduleBody,
    status: 201,
    headers: ['Location'],
    async handler({ body }, request, reply) {
      await authorize(request, deps.can, 'create', resource);
      const id = await kick(body);
      if (id !== undefined) reply.header('location', `/api/v2.0/system/gc/${id}`);
      return undefined;
    },
  });

  api.add({
    operationId: 'updateGCSchedule',
    tag,
    method: 'PUT',
    path: '/system/gc/schedule',
    summary: "Update gc's schedule",
    body: scheduleBody,
    status: 200,
    async handler({ body }, request) {
      await authorize(request, deps.can, 'update', resource);
      await kick(body);
      return undefined;
    },
  });

  api.add({
    operationId: 'getGCSchedule',
    tag,
    method: 'GET',
    path: '/system/gc/schedule',
    summary: "Get gc's schedule ({} when there is none)",
    status: 200,
    response: gcHistory,
    async handler(_input, request) {
      await authorize(request, deps.can, 'read', resource);
      const schedule = await gc.schedule();
      // Harbor answers an empty body; {} is what its swagger allows and JSON clients can parse.
      return schedule ? scheduleView(schedule) : {};
    },
  });

  api.add({
    operationId: 'getGCHistory',
    tag,
    method: 'GET',
    path: '/system/gc',
    summary: 'Get gc results',
    query: z.object(listParams),
    status: 200,
    response: z.array(gcHistory),
    headers: ['X-Total-Count', 'Link'],
    async handler({ query }, request, reply) {
      await authorize(request, deps.can, 'list', resource);
      const page = parseListQuery(query, {});
      const { total, items } = await gc.list(offsetOf(page), page.pageSize);
      setPageHeaders(request, reply, total, page);
      return items.map(historyView);
    },
  });

  api.add({
    operationId: 'getGC',
    tag,
    method: 'GET',
    path: '/system/gc/{gc_id}',
    summary: 'Get gc status',
    params: gcParams,
    status: 200,
    response: gcHistory,
    async handler({ params }, request) {
      await authorize(request, deps.can, 'read', resource);
      return historyView(await gc.get(params.gc_id));
    },
  });

  api.add({
    operationId: 'stopGC',
    tag,
    method: 'PUT',
    path: '/system/gc/{gc_id}',
    summary: 'Stop the specific GC execution',
    params: gcParams,
    status: 200,
    async handler({ params }, request) {
      await authorize(request, deps.can, 'stop', resource);
      await gc.stop(params.gc_id);
      return undefined;
    },
  });

  api.add({
    operationId: 'getGCLog',
    tag,
    method: 'GET',
    path: '/system/gc/{gc_id}/log',
    summary: 'Get gc job log',
    params: gcParams,
    status: 200,
    async handler({ params }, request) {
      await authorize(request, deps.can, 'read', resource);
      return gc.log(params.gc_id);
    },
  });
}

function historyView(e: GcExecution) {
  return {
    id: e.id,
    job_name: 'GARBAGE_COLLECTION',
    job_kind: e.trigger,
    job_parameters: JSON.stringify(e.attrs),
    // Harbor shows MANUAL as Manual, SCHEDULE as Schedule.
    schedule: { type: e.trigger.charAt(0) + e.trigger.slice(1).toLowerCase() },
    job_status: e.status,
    deleted: false,
    creation_time: e.startTime,
    update_time: e.endTime ?? e.updateTime,
  };
}

function scheduleView(s: GcSchedule) {
  return {
    id: s.id,
    job_name: '',
    job_kind: s.cron,
    job_parameters: JSON.stringify(paramAttrs(s.params)),
    schedule: { type: s.type, cron: s.cron, ...(s.nextFire ? { next_scheduled_time: s.nextFire } : {}) },
    job_status: '',
    deleted: false,
    creation_time: s.creationTime,
    update_time: s.updateTime,
  };
}
