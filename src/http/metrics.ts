import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, type Histogram, type Registry } from 'prom-client';
import type { CheckpointFigures } from '../db/checkpointer.js';
import type { ReadCacheFigures } from '../db/read-cache.js';
import type { EventBus } from '../services/events.js';
import type { ProxyMetrics } from '../services/proxy/proxy-cache.js';
import type { ScanCpuFigures } from '../services/scanning/builtin/scan-pool.js';

/** GET /metrics in Prometheus text format, and a request-duration histogram filled by an onResponse hook. */
export async function metricsPlugin(
  app: FastifyInstance,
  opts: {
    registry: Registry;
    requests: Histogram<'method' | 'surface' | 'status'>;
    gather?: () => Promise<string>;
  },
): Promise<void> {
  app.get('/metrics', async (_req, reply) => {
    const text = opts.gather ? await opts.gather() : await opts.registry.metrics();
    return reply.type(opts.registry.contentType).send(text);
  });
}

export function surfaceOf(url: string): string {
  if (url.startsWith('/v2')) return 'registry';
  if (url.startsWith('/api/')) return 'api';
  if (url.startsWith('/service/')) return 'token';
  return 'other';
}

/** Pushes a project's storage quota refused, counted from QuotaExceeded. */
export function registerQuotaMetrics(registry: Registry, events: Pick<EventBus, 'on'>): void {
  const refusals = new Counter({
    name: 'berth_quota_exceeded_total',
    help: 'Pushes (blob uploads, mounts, manifests, copies) refused by a project storage quota',
    registers: [registry],
  });
  events.on('QuotaExceeded', () => refusals.inc());
}

/** The figures of the last finished garbage collection, read from the database at each scrape (any node ran it). */
export function registerGcMetrics(
  registry: Registry,
  last: () => Promise<Record<string, unknown> | undefined>,
): void {
  const figures = {
    purged_blobs: 'blobs_deleted',
    purged_manifests: 'manifests_deleted',
    freed_space: 'bytes_freed',
    blobs_examined: 'blobs_examined',
    kept_referenced: 'blobs_kept_referenced',
    kept_recent: 'blobs_kept_recent',
    kept_raced: 'blobs_kept_raced',
    untagged_deleted: 'untagged_artifacts_deleted',
    uploads_purged: 'uploads_purged',
  } as const;
  new Gauge({
    name: 'berth_gc_last_run',
    help: 'Figures of the last finished garbage collection (dry runs included), by figure',
    labelNames: ['figure'],
    registers: [registry],
    // Every worker of `serve --workers` reads the same row: merged, one copy, not their sum.
    aggregator: 'max',
    async collect() {
      const attrs = await last().catch(() => undefined);
      this.reset();
      if (!attrs) return;
      for (const [key, figure] of Object.entries(figures)) this.set({ figure }, Number(attrs[key] ?? 0));
      this.set({ figure: 'duration_seconds' }, Number(attrs.duration_ms ?? 0) / 1000);
      this.set({ figure: 'dry_run' }, attrs.dry_run ? 1 : 0);
    },
  });
}

/** The proxy cache's counters: stale answers (by project and the upstream's failure) and upstream downloads. */
export function registerProxyMetrics(registry: Registry): ProxyMetrics {
  const stale = new Counter({
    name: 'berth_proxy_stale_served_total',
    help: 'Cached manifests served by proxy-cache projects because the upstream could not be asked',
    labelNames: ['project', 'reason'],
    registers: [registry],
  });
  const fetched = new Counter({
    name: 'berth_proxy_upstream_fetches_total',
    help: 'Manifests and blobs proxy-cache projects downloaded from their upstream',
    labelNames: ['project', 'kind'],
    registers: [registry],
  });
  return {
    staleServed: (project, reason) => stale.inc({ project, reason }),
    fetched: (project, kind) => fetched.inc({ project, kind }),
  };
}

/**
 * Statements sent to the database, the read cache's hits, misses and drops (db/read-cache.ts), and on
 * SQLite the waits for the write lock another connection held (db/connect.ts) and the checkpointing
 * thread's checkpoints (db/checkpointer.ts).
 */
export function registerStoreMetrics(
  registry: Registry,
  store: {
    statements(): number;
    lockWaits?: (() => { ms: number; count: number }) | undefined;
    checkpoints?: (() => CheckpointFigures) | undefined;
    figures: ReadCacheFigures;
  },
): void {
  const { lockWaits, checkpoints } = store;
  if (checkpoints) {
    new Counter({
      name: 'berth_db_checkpoints_total',
      help: 'Checkpoints of the SQLite WAL by the checkpointing thread (passive, restart), and those that found it busy',
      labelNames: ['mode'],
      registers: [registry],
      collect() {
        this.reset();
        const c = checkpoints();
        this.inc({ mode: 'passive' }, c.passive);
        this.inc({ mode: 'restart' }, c.restart);
        this.inc({ mode: 'busy' }, c.busy);
      },
    });
    new Counter({
      name: 'berth_db_checkpoint_seconds_total',
      help: 'Time the checkpointing thread spent in checkpoints of the SQLite WAL',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(checkpoints().seconds);
      },
    });
  }
  if (lockWaits) {
    new Counter({
      name: 'berth_db_lock_waits_total',
      help: "SQLite statements of the server's connection that found the write lock held by another connection",
      registers: [registry],
      collect() {
        this.reset();
        this.inc(lockWaits().count);
      },
    });
    new Counter({
      name: 'berth_db_lock_wait_seconds_total',
      help: "Time the server's SQLite statements waited for the write lock another connection held",
      registers: [registry],
      collect() {
        this.reset();
        this.inc(lockWaits().ms / 1000);
      },
    });
  }
  new Counter({
    name: 'berth_db_statements_total',
    help: 'SQL statements sent to the database (transaction begin and commit included)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(store.statements());
    },
  });
  new Counter({
    name: 'berth_read_cache_total',
    help: 'Reads of projects, policies and users answered from memory (hit) or the database (miss), and cache drops',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [result, n] of Object.entries(store.figures)) this.inc({ result }, n);
    },
  });
}

/** The scanning processes' CPU by phase of their scans (scan-work.ts `ScanPhase`), and the scans counted. */
export function registerScanCpuMetrics(registry: Registry, figures: ScanCpuFigures): void {
  new Counter({
    name: 'berth_scan_process_cpu_seconds_total',
    help: "Scanning processes' CPU time (all their threads) by phase of the built-in scanner's scans",
    labelNames: ['phase'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [phase, ms] of Object.entries(figures.cpuMs)) this.inc({ phase }, ms / 1000);
    },
  });
  new Counter({
    name: 'berth_scan_process_scans_total',
    help: 'Scans the scanning processes ended whose CPU is counted in berth_scan_process_cpu_seconds_total',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(figures.scans);
    },
  });
}
