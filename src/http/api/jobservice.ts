import { z } from 'zod';
import type { JobMonitor } from '../../jobs/monitor.js';
import { authorize, type Can } from './access.js';
import type { ApiRouter } from './router.js';

const monitor = { scope: 'system' as const, resource: 'jobservice-monitor' };
const jobParams = z.object({ job_id: z.string().min(1).max(64) });

/**
 * Harbor's `jobservice` tag: the job service dashboard over Berth's job table. A pool is one process
 * running a worker; its workers are its job slots; a queue is a job kind (plus SCHEDULER, the cron
 * scheduler). System administrators, or robots granted jobservice-monitor.
 */
export function jobserviceRoutes(api: ApiRouter, deps: { can: Can; jobMonitor: JobMonitor }): void {
  const tag = 'jobservice';
  const jobs = deps.jobMonitor;

  api.add({
    operationId: 'getWorkerPools',
    tag,
    method: 'GET',
    path: '/jobservice/pools',
    summary: 'Worker pools: one per live process running a job worker',
    status: 200,
    async handler(_input, request) {
      await authorize(request, deps.can, 'list', monitor);
      return (await jobs.pools()).map((p) => ({
        pid: p.pid,
        worker_pool_id: p.id,
        start_at: p.start_time,
        heartbeat_at: p.heartbeat_time,
        concurrency: p.concurrency,
        host: p.host,
      }));
    },
  });

  api.add({
    operationId: 'getWorkers',
    tag,
    method: 'GET',
    path: '/jobservice/pools/{pool_id}/workers',
    summary: "A pool's workers (`all`: every pool's) and the job each runs",
    params: z.object({ pool_id: z.string().min(1).max(128) }),
    status: 200,
    async handler({ params }, request) {
      await authorize(request, deps.can, 'list', monitor);
      return (await jobs.workers(params.pool_id)).map((w) =>
        w.job
          ? {
              id: w.id,
              pool_id: w.poolId,
              job_name: w.job.kind,
              job_id: String(w.job.id),
              check_in: '',
              ...(w.job.startTime ? { start_at: w.job.startTime } : {}),
              ...(w.job.checkinTime ? { checkin_at: w.job.checkinTime } : {}),
            }
          : { id: w.id, pool_id: w.poolId },
      );
    },
  });

  api.add({
    operationId: 'stopRunningJob',
    tag,
    method: 'PUT',
    path: '/jobservice/jobs/{job_id}',
    summary: 'Stop a job (`all`: every running job)',
    params: jobParams,
    status: 200,
    async handler({ params }, request) {
      await authorize(request, deps.can, 'stop', monitor);
      await jobs.stopJob(params.job_id);
      return undefined;
    },
  });

  api.add({
    operationId: 'actionGetJobLog',
    tag,
    method: 'GET',
    path: '/jobservice/jobs/{job_id}/log',
    summary: "A job's log as text",
    params: jobParams,
    status: 200,
    async handler({ params }, request) {
      await authorize(request, deps.can, 'list', monitor);
      return jobs.jobLog(params.job_id);
    },
  });

  api.add({
    operationId: 'listJobQueues',
    tag,
    method: 'GET',
    path: '/jobservice/queues',
    summary: 'Per job kind: pending jobs, latency in seconds, paused',
    status: 200,
    async handler(_input, request, reply) {
      await authorize(request, deps.can, 'list', monitor);
      const queues = await jobs.queues();
      reply.header('X-Total-Count', String(queues.length));
      return queues.map((q) => ({
        job_type: q.jobType,
        count: q.count,
        latency: q.latency,
        paused: q.paused,
      }));
    },
  });

  api.add({
    operationId: 'actionPendingJobs',
    tag,
    method: 'PUT',
    path: '/jobservice/queues/{job_type}',
    summary: 'Pause, resume, or stop every pending job of a queue (`all`: every queue)',
    params: z.object({ job_type: z.string().min(1).max(64) }),
    body: z.object({ action: z.enum(['stop', 'pause', 'resume']) }),
    status: 200,
    async handler({ params, body }, request) {
      await authorize(request, deps.can, 'stop', monitor);
      await jobs.act(params.job_type, body.action);
      return undefined;
    },
  });
}
