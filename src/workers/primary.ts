import cluster, { type Worker } from 'node:cluster';
import type { BerthConfig } from '../config/schema.js';
import { connect } from '../db/connect.js';
import { prepareSchema } from '../db/migrate.js';
import { MetaStore } from '../db/store.js';
import { systemClock } from '../lib/clock.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { childMallocEnv } from '../lib/malloc-arenas.js';
import { adminPasswordNotice, bootstrapIdentity } from '../services/access/bootstrap.js';
import { MetricsMerge } from './metrics-merge.js';
import { isWorkerMessage, slotVariable, type WorkerMessage } from './role.js';

/** A worker that dies this soon after it started is restarted after a growing pause (a crash loop). */
const stableMs = 10_000;
const maxRestartDelayMs = 30_000;

interface Slot {
  worker: Worker;
  startedAt: number;
  /** Quick deaths in a row, for the restart pause. */
  failures: number;
  /** Forked in place of one that died. */
  restart: boolean;
}

/**
 * The primary of `berth serve --workers N`; it serves nothing itself. It prepares the database once
 * (migrations, the first admin and its one-time password) before any worker exists, forks N workers that
 * share the port (each accepts new connections from it), restarts a worker that
 * dies, merges the workers' metrics for whichever one a scrape reached, and on SIGTERM or SIGINT stops
 * them all and exits once they have.
 */
export async function runPrimary(config: BerthConfig, count: number): Promise<void> {
  const log = createLogger(config.log.level);
  await prepareDatabase(config, log);
  // Every worker accepts on the shared socket itself (the kernel picks one), rather than the primary
  // accepting and passing each connection on (node's round robin): a connection the primary hands to a
  // worker in the instant it dies is lost without an answer, and the primary would be one more hop on
  // every new connection. The split is less even; the bench measures it.
  cluster.schedulingPolicy = cluster.SCHED_NONE;

  const slots: Slot[] = [];
  const merge = new MetricsMerge(send);
  let stopping = false;
  /** Slots whose worker has listened at least once. */
  const started = new Set<number>();

  const fork = (index: number, failures: number) => {
    const worker = cluster.fork({ [slotVariable]: String(index), ...childMallocEnv() });
    slots[index] = { worker, startedAt: Date.now(), failures, restart: slots[index] !== undefined };
    worker.on('message', (m: unknown) => {
      if (isWorkerMessage(m)) onMessage(index, worker, m);
    });
    worker.once('exit', (code, signal) => onExit(index, worker, code, signal));
  };

  const onMessage = (index: number, from: Worker, m: WorkerMessage) => {
    if (m.berth === 'ready') {
      if (slots[index]!.restart)
        log.info({ worker: index, workerPid: from.process.pid }, 'the new worker is serving');
      if (started.size < count && started.add(index).size === count) {
        const [database] = config.database.url.split(':');
        log.info(
          { url: m.url, workers: count, database, storage: config.storage.driver },
          'Berth is serving',
        );
      }
    }
    if (m.berth === 'gather')
      merge.gather(
        from,
        m.id,
        slots.map((s) => s.worker).filter((w) => w.isConnected()),
      );
    if (m.berth === 'collected') merge.collected(from, m.id, m.metrics);
  };

  const onExit = (index: number, worker: Worker, code: number | null, signal: string | null) => {
    if (stopping) return;
    const slot = slots[index]!;
    if (started.size === 0) {
      // No worker has started yet: a bad setting or a port in use; each worker would fail alike, and
      // the one that died printed why.
      log.error(
        { worker: index, workerPid: worker.process.pid, code, signal },
        'a worker failed to start; stopping',
      );
      void stopAll(1);
      return;
    }
    const failures = Date.now() - slot.startedAt < stableMs ? slot.failures + 1 : 0;
    const delay = failures === 0 ? 0 : Math.min(maxRestartDelayMs, 500 * 2 ** (failures - 1));
    log.warn(
      { worker: index, workerPid: worker.process.pid, code, signal, restartInMs: delay },
      'a worker exited; starting another',
    );
    setTimeout(() => {
      if (!stopping) fork(index, failures);
    }, delay);
  };

  const stopAll = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    const live = slots.map((s) => s.worker).filter((w) => !w.isDead());
    const deadline = setTimeout(
      () => live.forEach((w) => w.process.kill('SIGKILL')),
      (config.server.shutdownTimeoutSeconds + 10) * 1000,
    );
    await Promise.all(
      live.map(
        (w) =>
          new Promise<void>((resolve) => {
            w.once('exit', () => resolve());
            w.process.kill('SIGTERM');
          }),
      ),
    );
    clearTimeout(deadline);
    process.exit(exitCode);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => {
      log.info({ signal, workers: count }, 'shutting down');
      void stopAll(0);
    });

  for (let i = 0; i < count; i++) fork(i, 0);
}

function send(worker: Worker, m: WorkerMessage): void {
  if (worker.isConnected()) worker.send(m);
}

/** Migrations and the first admin, once, before any worker starts: the workers only check the schema. */
async function prepareDatabase(config: BerthConfig, log: Logger): Promise<void> {
  const handle = connect({
    url: config.database.url,
    poolMax: 2,
    acquireTimeoutMs: config.database.pool.acquireTimeoutMs,
  });
  try {
    await prepareSchema(handle.db as never, handle.dialect, config.database.migrate, log);
    const boot = await bootstrapIdentity({
      store: new MetaStore(handle.db),
      clock: systemClock,
      ...(config.admin.password !== undefined ? { adminPassword: config.admin.password } : {}),
    });
    if (boot.generatedPassword) process.stdout.write(adminPasswordNotice(boot.generatedPassword));
  } finally {
    await handle.close();
  }
}
