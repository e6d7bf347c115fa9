import type { BerthConfig } from '../config/schema.js';
import { isWorkerMessage, slotVariable, type WorkerMessage } from './role.js';

/**
 * One HTTP process of `berth serve --workers N`, forked by the primary (primary.ts). The primary has
 * already migrated the database, so this process only checks the schema; slot 0 fires the cron schedules
 * and runs the jobs, the others serve HTTP only. `listen` goes through the primary, which shares the one
 * port among the workers. SIGTERM (from the primary) closes the app as a single process does; losing the
 * primary (it was killed) does the same.
 */
export async function runWorker(config: BerthConfig, startup: { release(): void }): Promise<void> {
  const slot = Number(process.env[slotVariable] ?? 0);
  const runsJobs = slot === 0;
  const send = (m: WorkerMessage) => process.send?.(m);
  let nextId = 0;
  const pending = new Map<number, (text: string) => void>();
  const { buildApp } = await import('../app.js');
  const app = await buildApp(
    {
      ...config,
      database: { ...config.database, migrate: false },
      jobs: { ...config.jobs, workers: runsJobs ? config.jobs.workers : 0 },
    },
    {
      worker: {
        pid: process.pid,
        runsJobs,
        gatherMetrics: () =>
          new Promise((resolve) => {
            const id = nextId++;
            pending.set(id, resolve);
            send({ berth: 'gather', id });
          }),
      },
    },
  );
  process.on('message', (m: unknown) => {
    if (!isWorkerMessage(m)) return;
    if (m.berth === 'collect')
      void app.metrics.getMetricsAsJSON().then((metrics) => send({ berth: 'collected', id: m.id, metrics }));
    if (m.berth === 'gathered') {
      pending.get(m.id)?.(m.text);
      pending.delete(m.id);
    }
  });
  let closing: Promise<void> | undefined;
  const stop = (reason: string) => {
    closing ??= (async () => {
      app.logger.info({ reason, worker: slot }, 'worker shutting down');
      await app.close();
      process.exit(0);
    })();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('disconnect', () => stop('primary gone'));
  const url = await app.listen();
  startup.release();
  app.logger.debug({ worker: slot, jobs: runsJobs }, 'worker listening');
  send({ berth: 'ready', url });
}
