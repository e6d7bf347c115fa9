// The calls of the contract test for the jobservice, schedule and purge tags (kept apart: contract.test.ts
// is long).
import type { Call } from './contract-gc-calls.js';

/** Every operation of issue 16's jobservice, schedule and purge tags; `{purge}` is the run started here. */
export function jobCalls(): Call[] {
  const parameters = { audit_retention_hour: 24, include_event_types: 'create_artifact', dry_run: true };
  return [
    { op: 'getWorkerPools', method: 'GET', path: '/jobservice/pools', status: 200 },
    { op: 'getWorkers', method: 'GET', path: '/jobservice/pools/all/workers', status: 200 },
    { op: 'getWorkers', method: 'GET', path: '/jobservice/pools/none/workers', status: 404 },
    { op: 'listJobQueues', method: 'GET', path: '/jobservice/queues', status: 200 },
    {
      op: 'actionPendingJobs',
      method: 'PUT',
      path: '/jobservice/queues/upload.purge',
      body: { action: 'pause' },
      status: 200,
    },
    {
      op: 'actionPendingJobs',
      method: 'PUT',
      path: '/jobservice/queues/UPLOAD.PURGE',
      body: { action: 'resume' },
      status: 200,
    },
    {
      op: 'actionPendingJobs',
      method: 'PUT',
      path: '/jobservice/queues/none',
      body: { action: 'stop' },
      status: 404,
    },
    { op: 'stopRunningJob', method: 'PUT', path: '/jobservice/jobs/999999', status: 404 },
    { op: 'actionGetJobLog', method: 'GET', path: '/jobservice/jobs/999999/log', status: 404 },
    { op: 'listSchedules', method: 'GET', path: '/schedules?page=1&page_size=10', status: 200 },
    { op: 'getSchedulePaused', method: 'GET', path: '/schedules/all/paused', status: 200 },
    { op: 'getSchedulePaused', method: 'GET', path: '/schedules/gc/paused', status: 400 },
    {
      op: 'createPurgeSchedule',
      method: 'POST',
      path: '/system/purgeaudit/schedule',
      body: { schedule: { type: 'Manual' }, parameters },
      status: 201,
    },
    {
      op: 'createPurgeSchedule',
      method: 'POST',
      path: '/system/purgeaudit/schedule',
      body: { schedule: { type: 'Hourly' }, parameters: {} },
      status: 400,
    },
    {
      op: 'updatePurgeSchedule',
      method: 'PUT',
      path: '/system/purgeaudit/schedule',
      body: { schedule: { type: 'Daily', cron: '0 0 0 * * *' }, parameters },
      status: 200,
    },
    { op: 'getPurgeSchedule', method: 'GET', path: '/system/purgeaudit/schedule', status: 200 },
    { op: 'getPurgeHistory', method: 'GET', path: '/system/purgeaudit', status: 200 },
    { op: 'getPurgeJob', method: 'GET', path: '/system/purgeaudit/{purge}', status: 200 },
    { op: 'getPurgeJob', method: 'GET', path: '/system/purgeaudit/999999', status: 404 },
    { op: 'getPurgeJobLog', method: 'GET', path: '/system/purgeaudit/{purge}/log', status: 200 },
    { op: 'stopPurge', method: 'PUT', path: '/system/purgeaudit/{purge}', status: 200 },
    { op: 'stopPurge', method: 'PUT', path: '/system/purgeaudit/999999', status: 404 },
  ];
}
