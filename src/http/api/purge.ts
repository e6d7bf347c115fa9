import { z } from 'zod';
import type { AuditPurgePayload } from '../../jobs/kinds/audit-purge.js';
import { AppError } from '../../lib/errors.js';
import {
  maxRetentionHour,
  purgeVendorType,
  type AuditPurge,
  type PurgeRun,
} from '../../services/audit/audit-purge.js';
import { authorize, type Can } from './access.js';
import { offsetOf } from '../../lib/query.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { listParams, q, type ApiRouter } from './router.js';
import { scheduleBody, type ScheduleBody } from './schedule-body.js';

const purgeAudit = { scope: 'system' as const, resource: 'purge-audit' };
const idParams = z.object({ purge_id: q.id });

/** Harbor's checks of a purge schedule body, with its messages. */
function payloadOf(body: ScheduleBody): AuditPurgePayload {
  const p = body.parameters ?? {};
  if (Object.keys(p).length === 0) throw new AppError('BAD_REQUEST', "schedule parameter can't be empty");
  const hours = p.audit_retention_hour;
  if (hours === undefined) throw new AppError('BAD_REQUEST', 'audit_retention_hour should provide');
  if (typeof hours !== 'number' || !Number.isInteger(hours) || hours < 0)
    throw new AppError('BAD_REQUEST', 'audit_retention_hour should be integer format');
  if (hours > maxRetentionHour)
    throw new AppError('BAD_REQUEST', `audit_retention_hour should be less than ${maxRetentionHour}`);
  const types = p.include_event_types;
  if (types === undefined) throw new AppError('BAD_REQUEST', 'include_event_types should provide');
  if (typeof types !== 'string') throw new AppError('BAD_REQUEST', 'include_event_types should be a string');
  return {
    retentionHour: hours,
    includeEventTypes: types
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== ''),
    dryRun: p.dry_run === true,
  };
}

/** Harbor's ExecHistory of one purge run. */
function historyModel(run: PurgeRun) {
  return {
    id: run.id,
    job_name: purgeVendorType,
    job_kind: run.trigger,
    job_parameters: JSON.stringify(run.parameters),
    // Harbor puts the trigger (MANUAL) here, outside its own enum; the enum's words are sent instead.
    schedule: { type: run.trigger === 'MANUAL' ? 'Manual' : 'Schedule' },
    job_status: run.status,
    deleted: false,
    creation_time: run.creationTime,
    update_time: run.updateTime,
  };
}

/** Harbor's `purge` tag: audit log rotation (Administration → Clean Up → Log Rotation). */
export function purgeRoutes(api: ApiRouter, deps: { can: Can; auditPurge: AuditPurge }): void {
  const tag = 'purge';
  const purge = deps.auditPurge;

  api.add({
    operationId: 'createPurgeSchedule',
    tag,
    method: 'POST',
    path: '/system/purgeaudit/schedule',
    summary: 'Run a purge now (Manual) or create its schedule',
    body: scheduleBody,
    status: 201,
    headers: ['Location'],
    async handler({ body }, request, reply) {
      await authorize(request, deps.can, 'create', purgeAudit);
      const id = await purge.setSchedule(body.schedule.type, body.schedule.cron, payloadOf(body));
      if (id !== undefined) reply.header('location', `/api/v2.0/system/purgeaudit/${id}`);
      return undefined;
    },
  });

  api.add({
    operationId: 'updatePurgeSchedule',
    tag,
    method: 'PUT',
    path: '/system/purgeaudit/schedule',
    summary: "Update (or with None, remove) the purge's schedule",
    body: scheduleBody,
    status: 200,
    async handler({ body }, request) {
      await authorize(request, deps.can, 'update', purgeAudit);
      await purge.setSchedule(body.schedule.type, body.schedule.cron, payloadOf(body));
      return undefined;
    },
  });

  api.add({
    operationId: 'getPurgeSchedule',
    tag,
    method: 'GET',
    path: '/system/purgeaudit/schedule',
    summary: "The purge's schedule (an empty answer when there is none)",
    status: 200,
    async handler(_input, request) {
      await authorize(request, deps.can, 'read', purgeAudit);
      const s = await purge.schedule();
      if (!s) return undefined;
      return {
        id: s.row.id,
        job_name: '',
        job_kind: s.row.cron,
        job_parameters: JSON.stringify(s.parameters),
        deleted: false,
        job_status: '',
        schedule: {
          type: s.type,
          cron: s.row.cron,
          ...(s.nextFire ? { next_scheduled_time: s.nextFire.toISOString() } : {}),
        },
        creation_time: s.row.creation_time,
        update_time: s.row.update_time,
      };
    },
  });

  api.add({
    operationId: 'getPurgeHistory',
    tag,
    method: 'GET',
    path: '/system/purgeaudit',
    summary: 'Purge runs, newest first',
    query: z.object(listParams),
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    async handler({ query }, request, reply) {
      await authorize(request, deps.can, 'list', purgeAudit);
      const page = parseListQuery(query, {});
      const { runs, total } = await purge.history({ offset: offsetOf(page), limit: page.pageSize });
      setPageHeaders(request, reply, total, page);
      return runs.map(historyModel);
    },
  });

  api.add({
    operationId: 'getPurgeJob',
    tag,
    method: 'GET',
    path: '/system/purgeaudit/{purge_id}',
    summary: 'One purge run',
    params: idParams,
    status: 200,
    async handler({ params }, request) {
      await authorize(request, deps.can, 'read', purgeAudit);
      return historyModel(await purge.get(params.purge_id));
    },
  });

  api.add({
    operationId: 'getPurgeJobLog',
    tag,
    method: 'GET',
    path: '/system/purgeaudit/{purge_id}/log',
    summary: "A purge run's log as text",
    params: idParams,
    status: 200,
    async handler({ params }, request) {
      await authorize(request, deps.can, 'read', purgeAudit);
      return purge.log(params.purge_id);
    },
  });

  api.add({
    operationId: 'stopPurge',
    tag,
    method: 'PUT',
    path: '/system/purgeaudit/{purge_id}',
    summary: 'Stop a purge run',
    params: idParams,
    status: 200,
    async handler({ params }, request) {
      await authorize(request, deps.can, 'stop', purgeAudit);
      await purge.stop(params.purge_id);
      return undefined;
    },
  });
}
