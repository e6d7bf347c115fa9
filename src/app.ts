import type { FastifyInstance } from 'fastify';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BerthConfig } from './config/schema.js';
import { connect, pingDatabase, type DbHandle } from './db/connect.js';
import { prepareSchema } from './db/migrate.js';
import { openStore } from './db/open-store.js';
import type { MetaStore } from './db/store.js';
import {
  registerGcMetrics,
  registerProxyMetrics,
  registerQuotaMetrics,
  registerScanCpuMetrics,
  registerStoreMetrics,
} from './http/metrics.js';
import { buildServer } from './http/server.js';
import { bundledUiDir } from './http/ui.js';
import { JobMonitor } from './jobs/monitor.js';
import { JobRuntime } from './jobs/runtime.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createLogger, type Logger } from './lib/logger.js';
import { wirePreheat } from './services/preheat/wire-preheat.js';
import { tokenServiceName, wireIdentity } from './services/access/wire-identity.js';
import { ArtifactCopier } from './services/artifacts/artifact-copy.js';
import { ArtifactService } from './services/artifacts/artifact-service.js';
import { wireAudit } from './services/audit/wire-audit.js';
import { EventBus } from './services/events.js';
import { wireGc } from './services/gc/wire-gc.js';
import { startInsights } from './services/insights/insights.js';
import { LabelService } from './services/labels/label-service.js';
import { wireRetention } from './services/policies/retention/wire-retention.js';
import { ProjectMetadataService } from './services/projects/project-metadata-service.js';
import { ProjectService } from './services/projects/project-service.js';
import { buildProxyCache } from './services/proxy/proxy-wiring.js';
import { wireRegistry } from './services/registry/wire-registry.js';
import { Replication } from './services/replication/replication.js';
import { RepositoryService } from './services/repositories/repository-service.js';
import { fixedSettings } from './services/settings/fixed-settings.js';
import { SettingsService } from './services/settings/settings.js';
import { instanceFacts, SystemService } from './services/system/system-service.js';
import { Webhooks } from './services/webhooks/webhooks.js';
import { wireScanning } from './services/scanning/scanning.js';
import { wireScanHub } from './services/securityhub/scan-hub.js';
import { wireScanners } from './services/scanning/registrations/scanners-wiring.js';
import type { ScanCpuFigures } from './services/scanning/builtin/scan-pool.js';
import type { ScannerRegistrations } from './services/scanning/registrations/scanner-registrations.js';
import type { StorageDriver } from './storage/driver.js';
import { createConfiguredDriver } from './storage/drivers.js';
import { InstrumentedDriver } from './storage/instrument.js';
import { berthVersion } from './version.js';
import type { WorkerRole } from './workers/role.js';

export interface BerthApp {
  config: BerthConfig;
  server: FastifyInstance;
  logger: Logger;
  jobs: JobRuntime;
  /** The metadata store, for the admin CLI and test set-up; request handling never goes around services. */
  store: MetaStore;
  replication: Replication;
  /** Domain events; subscribers in the change's transaction enqueue the jobs that follow it. */
  events: EventBus;
  /** This process's metrics (a worker sends them to the primary, which merges every worker's). */
  metrics: Registry;
  /** Scanner registrations: which scanner a project uses (ScannerResolver), for the scan jobs and tests. */
  scanners: ScannerRegistrations;
  /** Starts listening; resolves with the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface BuildOptions {
  logger?: Logger;
  clock?: Clock;
  /** Set in each process of `berth serve --workers N` (src/workers/). */
  worker?: WorkerRole;
}

/** The composition root: config → drivers → repositories → services → HTTP. The only wiring in Berth. */
export async function buildApp(config: BerthConfig, options: BuildOptions = {}): Promise<BerthApp> {
  const logger = options.logger ?? createLogger(config.log.level);
  const clock = options.clock ?? systemClock;
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });

  const handle: DbHandle = connect({
    url: config.database.url,
    poolMax: config.database.pool.max,
    acquireTimeoutMs: config.database.pool.acquireTimeoutMs,
    cacheKiB: config.database.sqliteCacheMb * 1024,
    ...(config.database.checkpointThread
      ? {
          checkpointThread: {
            onError: (err: unknown) => logger.warn({ err }, 'the checkpointing thread failed'),
          },
        }
      : {}),
  });
  try {
    await prepareSchema(handle.db as never, handle.dialect, config.database.migrate, logger);
  } catch (err) {
    await handle.close();
    throw err;
  }

  const storage = await createStorage(config, metrics);
  const { store, cache, close: stopListening } = openStore(handle, { url: config.database.url, log: logger });
  registerStoreMetrics(metrics, { ...handle, figures: cache.figures });
  const settings = new SettingsService({ store, clock, fixed: fixedSettings(config) });
  const identity = await wireIdentity({ config, store, clock, log: logger, settings }).catch(async (err) => {
    await stopListening();
    await handle.close();
    throw err;
  });
  const { access, authenticator, sessions, users, members, groups, robots } = identity;
  const events = new EventBus((name, err) => logger.error({ err, event: name }, 'event handler failed'));
  const jobs = new JobRuntime({
    ...{ store, clock, log: logger, config: config.jobs },
    schedules: options.worker?.runsJobs,
  });
  const core = await wireRegistry({ config, store, storage, clock, log: logger, events, jobs });
  const { pulls, quota, writes, uploads, blobs, immutability, manifests } = core;
  const replication = Replication.wire({
    ...{ store, clock, log: logger, queue: jobs.queue, scheduler: jobs.scheduler, events },
    secrets: identity.keys.box,
    local: { manifests, blobs, uploads },
    externalUrl: config.server.externalUrl,
  });
  const { audit, auditPurge } = wireAudit({ store, clock, log: logger, events, jobs, access });
  const scanCpu: ScanCpuFigures = { scans: 0, cpuMs: {} };
  registerScanCpuMetrics(metrics, scanCpu);
  const scanners = wireScanners({
    ...{ store, storage, clock, config, secrets: identity.keys.box, tokens: identity.tokens, scanCpu },
    registryUrl: (internal) => (!internal && config.server.externalUrl) || server.listeningOrigin,
  });
  const scanning = wireScanning({
    store,
    storage,
    clock,
    events,
    jobs,
    scanners,
    manifests,
    uploads,
    log: logger,
  });
  const artifacts = new ArtifactService({
    store,
    storage,
    clock,
    events,
    manifests,
    immutability,
    scans: scanning.scans,
  });
  const gc = wireGc({ config, store, storage, clock, log: logger, jobs, artifacts, uploads });
  registerGcMetrics(metrics, () => gc.lastResult());
  const retention = wireRetention({
    store,
    clock,
    log: logger,
    jobs,
    events,
    immutability,
    artifacts,
    audit,
  });
  const insights = await startInsights({ store, clock, log: logger, events, jobs, intervalMs: 2000, access });
  // resource_url names the registry as clients do: the external URL's host, else the address listened on.
  let registryHost = config.server.externalUrl
    ? new URL(config.server.externalUrl).host
    : `${config.server.host}:${config.server.port}`;
  const webhooks = Webhooks.wire({
    ...{ store, clock, log: logger, queue: jobs.queue, events, config: config.webhooks },
    registryHost: () => registryHost,
    registryEndpoint: () => config.server.externalUrl ?? `http://${registryHost}`,
    deliveryThread: jobs.worker && {
      ...{ databaseUrl: config.database.url, acquireTimeoutMs: config.database.pool.acquireTimeoutMs },
      ...{ jobs: config.jobs, logLevel: logger.level },
    },
  });
  const preheat = wirePreheat({
    ...{ store, clock, jobs, events, secrets: identity.keys.box, tokens: identity.tokens },
    ...{ vulnerable: scanning.pullPolicy, check: config.preheat },
    registryUrl: () => config.server.externalUrl || server.listeningOrigin,
  });
  const scanHub = wireScanHub({ store, storage, clock, queue: jobs.queue });
  jobs.start();

  const health = [
    { name: 'database', check: () => pingDatabase(handle.db) },
    { name: 'storage', check: async () => void (await storage.list('blobs')) },
  ];
  registerQuotaMetrics(metrics, events);
  const proxyCache = buildProxyCache({
    ...{ store, storage, clock, log: logger, events, quota, writes, manifests, blobs, pulls },
    queue: jobs.queue,
    completeAfterSeconds: config.registry.proxyCompleteAfterSeconds,
    backlogBytes: config.registry.proxyBacklogMb * 1024 * 1024,
    hashThread: config.registry.proxyHashThread,
    registries: replication.registries,
    metrics: registerProxyMetrics(metrics),
  });
  const server = buildServer({
    logger,
    trustProxy: config.server.trustProxy,
    registry: {
      ...{ blobs, uploads, manifests, proxy: proxyCache.proxy, pullPolicy: scanning.pullPolicy },
      auth: {
        access,
        authenticator,
        service: tokenServiceName,
        ...(config.server.externalUrl ? { externalUrl: config.server.externalUrl } : {}),
      },
    },
    auth: { authenticator, tokens: identity.tokens, session: (cookie) => sessions.subjectOf(cookie) },
    session: {
      authenticator,
      sessions,
      secureCookies: (config.server.externalUrl ?? '').startsWith('https:'),
    },
    token: { tokens: identity.tokenService, service: tokenServiceName },
    api: {
      version: berthVersion,
      can: (subject, action, target) => access.can(subject, action, target),
      projectAccess: (...args) => access.projectAccess(...args),
      identity: { access, users, members, groups, robots, audit },
      projects: new ProjectService({
        ...{ store, clock, access, settings, quota },
        ...{ registries: replication.registries, retention: retention.policies },
      }),
      projectMetadata: new ProjectMetadataService({ store, clock }),
      repositories: new RepositoryService({ store, clock, events, immutability, access }),
      artifacts,
      copier: new ArtifactCopier({ store, storage, clock, manifests, immutability, quota }),
      immutability,
      quota,
      labels: new LabelService({ store, clock }),
      system: new SystemService({
        store,
        access,
        settings,
        instance: instanceFacts(config),
        dataDir: config.data.dir,
      }),
      health,
      ldap: identity.ldap,
      replication,
      retention,
      settings,
      jobMonitor: new JobMonitor({ store, queue: jobs.queue, clock }),
      auditPurge,
      gc,
      insights: insights.service,
      webhooks,
      preheat,
      scans: scanning.scans,
      scanAll: scanning.scanAll,
      ...scanHub,
      scanners,
      allowlists: scanning.allowlists,
    },
    ui: { dir: config.ui.dir ?? bundledUiDir() },
    ...(identity.oidc
      ? {
          oidc: {
            login: identity.oidc,
            sessions,
            ...(config.server.externalUrl ? { externalUrl: config.server.externalUrl } : {}),
          },
        }
      : {}),
    health,
    audit,
    ...(options.worker ? { workerPid: options.worker.pid } : {}),
    metrics: {
      registry: metrics,
      ...(options.worker ? { gather: options.worker.gatherMetrics } : {}),
      requests: new Histogram({
        name: 'berth_http_request_duration_seconds',
        help: 'HTTP request duration by surface, method and status',
        labelNames: ['method', 'surface', 'status'],
        registers: [metrics],
      }),
    },
  });

  return {
    config,
    server,
    logger,
    store,
    jobs,
    replication,
    events,
    metrics,
    scanners,
    async listen() {
      const url = await server.listen({ host: config.server.host, port: config.server.port });
      if (!config.server.externalUrl) registryHost = new URL(url).host;
      return url;
    },
    async close() {
      await jobs.close();
      // New connections are refused and idle ones closed at once; in-flight requests may finish (their
      // answers carry Connection: close) until the deadline, then every remaining socket is destroyed.
      const idle = setInterval(() => server.server.closeIdleConnections(), 100);
      const deadline = setTimeout(
        () => server.server.closeAllConnections(),
        config.server.shutdownTimeoutSeconds * 1000,
      );
      try {
        await server.close();
      } finally {
        clearInterval(idle);
        clearTimeout(deadline);
      }
      await pulls.stop();
      await insights.recorder.stop();
      await webhooks.stop();
      await proxyCache.close();
      await scanners.close();
      await audit.stop();
      await stopListening();
      await handle.close();
      storage.close?.();
    },
  };
}

async function createStorage(config: BerthConfig, metrics: Registry): Promise<StorageDriver> {
  const histogram = new Histogram({
    name: 'berth_storage_operation_seconds',
    help: 'Storage driver call duration by driver and operation',
    labelNames: ['driver', 'operation'],
    registers: [metrics],
  });
  return new InstrumentedDriver(await createConfiguredDriver(config.storage), histogram);
}
