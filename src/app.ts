import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BerthConfig } from './config/schema.js';
import { connect, pingDatabase, type DbHandle } from './db/connect.js';
import { assertSchemaCurrent, migrateToLatest } from './db/migrate.js';
import { MetaStore } from './db/store.js';
import { buildServer } from './http/server.js';
import { bundledUiDir } from './http/ui.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createLogger, type Logger } from './lib/logger.js';
import { uploadPurgeJob } from './jobs/kinds/upload-purge.js';
import { auditPurgeJob } from './jobs/kinds/audit-purge.js';
import { JobMonitor } from './jobs/monitor.js';
import { JobRuntime } from './jobs/runtime.js';
import { ArtifactCopier } from './services/artifacts/artifact-copy.js';
import { ArtifactService } from './services/artifacts/artifact-service.js';
import { BearerTokens } from './auth/bearer-token.js';
import { loadKeys } from './auth/keys.js';
import { DbProvider } from './auth/providers/db.js';
import { LdapProvider } from './auth/providers/ldap.js';
import { OidcProvider } from './auth/providers/oidc.js';
import { AccessControl } from './services/access/access-control.js';
import { Authenticator } from './services/access/authenticator.js';
import { bootstrapIdentity } from './services/access/bootstrap.js';
import { OidcLogin } from './services/access/oidc-login.js';
import { Onboarding } from './services/access/onboarding.js';
import { SessionService } from './services/access/sessions.js';
import { TokenService } from './services/access/token-service.js';
import { MemberService } from './services/access/members.js';
import { RobotService } from './services/access/robots.js';
import { UserGroupService } from './services/access/user-groups.js';
import { UserService } from './services/access/users.js';
import { auditDomainEvents } from './services/audit/audit-domain-events.js';
import { AuditLog } from './services/audit/audit-log.js';
import { AuditPurge } from './services/audit/audit-purge.js';
import { replicationCopyJob, replicationPlanJob, replicationStartJob } from './jobs/kinds/replication.js';
import { retentionPlanJob } from './jobs/kinds/retention.plan.js';
import { retentionProcessJob } from './jobs/kinds/retention.process.js';
import { retentionStartJob } from './jobs/kinds/retention.start.js';
import { Retention } from './services/policies/retention/retention.js';
import { Replication } from './services/replication/replication.js';
import { EventBus } from './services/events.js';
import { LabelService } from './services/labels/label-service.js';
import { ImmutabilityService } from './services/policies/immutability/immutability-service.js';
import { QuotaService } from './services/policies/quota/quota-service.js';
import { ProjectMetadataService } from './services/projects/project-metadata-service.js';
import { ProjectService } from './services/projects/project-service.js';
import { RepositoryService } from './services/repositories/repository-service.js';
import { SystemService } from './services/system/system-service.js';
import { fixedSettings } from './services/settings/fixed-settings.js';
import { SettingsService } from './services/settings/settings.js';
import { BlobWriteGuard } from './services/gc/blob-write-guard.js';
import { GarbageCollector } from './services/gc/garbage-collector.js';
import { gcRunPayload, GcService } from './services/gc/gc-service.js';
import { gcRunJob } from './jobs/kinds/gc.js';
import { startInsights } from './services/insights/insights.js';
import { registerGcMetrics, registerProxyMetrics } from './http/metrics.js';
import { buildProxyCache } from './services/proxy/proxy-wiring.js';
import { BlobService } from './services/registry/blob-service.js';
import { ManifestService } from './services/registry/manifest-service.js';
import { Namespaces } from './services/registry/namespaces.js';
import { PullRecorder } from './services/registry/pull-recorder.js';
import { UploadSessions } from './services/registry/upload-sessions.js';
import { Webhooks } from './services/webhooks/webhooks.js';
import type { StorageDriver } from './storage/driver.js';
import { storageDrivers } from './storage/drivers.js';
import { InstrumentedDriver } from './storage/instrument.js';
import { berthVersion } from './version.js';

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
  /** Starts listening; resolves with the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface BuildOptions {
  logger?: Logger;
  clock?: Clock;
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
  });
  try {
    if (config.database.migrate) {
      const { applied } = await migrateToLatest(handle.db as never, handle.dialect);
      if (applied.length > 0) logger.info({ applied }, 'database migrated');
    } else await assertSchemaCurrent(handle.db as never, handle.dialect);
  } catch (err) {
    await handle.close();
    throw err;
  }

  const storage = await createStorage(config, metrics);
  const store = new MetaStore(handle.db);
  let keys;
  try {
    const boot = await bootstrapIdentity({ store, clock, adminPassword: config.admin.password });
    if (boot.generatedPassword)
      // Straight to stdout, once: never through the logger, so it is in no log file or log shipper.
      process.stdout.write(
        `\n  Berth created the user "admin" with the password: ${boot.generatedPassword}\n  It is shown only this once; change it after logging in.\n\n`,
      );
    keys = await loadKeys(store.authState, clock.now().toISOString());
  } catch (err) {
    await handle.close();
    throw err;
  }
  const service = 'berth';
  const tokens = new BearerTokens({
    keys,
    service,
    expirySeconds: config.auth.token.expiryMinutes * 60,
    now: () => clock.now(),
  });
  const access = new AccessControl({ store });
  const ldap =
    config.auth.mode === 'ldap_auth' && config.auth.ldap
      ? new LdapProvider({ options: config.auth.ldap, log: logger })
      : undefined;
  const onboarding = new Onboarding({ store, clock, box: keys.box });
  const authenticator = new Authenticator({
    store,
    clock,
    keys,
    local: new DbProvider(store.users),
    ...(ldap ? { external: ldap } : {}),
    onboarding,
    cliSecretLifetimeHours: config.auth.oidc?.cliSecretLifetimeHours ?? 0,
    mode: config.auth.mode,
    robotPrefix: config.auth.robotPrefix,
    throttle: config.auth.throttle,
  });
  const oidc =
    config.auth.mode === 'oidc_auth' && config.auth.oidc
      ? new OidcLogin({
          provider: new OidcProvider({ options: config.auth.oidc, log: logger }),
          box: keys.box,
          clock,
          onboard: (identity) => onboarding.onboard(identity, 'oidc'),
        })
      : undefined;
  const events = new EventBus((name, err) => logger.error({ err, event: name }, 'event handler failed'));
  const namespaces = new Namespaces({ store, clock });
  const pulls = new PullRecorder({ store, clock, log: logger, intervalMs: 2000 });
  pulls.start();
  const quota = new QuotaService({ store, events, clock });
  const writes = new BlobWriteGuard({ store, storage, clock });
  const uploads = new UploadSessions({ store, storage, namespaces, events, clock, quota, writes });
  const jobs = new JobRuntime({ store, clock, log: logger, config: config.jobs });
  jobs.queue.register(uploadPurgeJob(uploads, config.registry.uploadMaxIdleHours * 3600_000));
  await jobs.scheduler.upsert({
    name: 'upload.purge',
    cron: '0 0 * * * *',
    kind: 'upload.purge',
    payload: {},
  });
  const blobs = new BlobService({ store, storage, namespaces });
  const immutability = new ImmutabilityService({ store, clock });
  const manifests = new ManifestService({
    store,
    storage,
    namespaces,
    events,
    pulls,
    clock,
    immutability,
    quota,
    writes,
  });
  const replication = new Replication({
    store,
    clock,
    log: logger,
    queue: jobs.queue,
    scheduler: jobs.scheduler,
    secrets: keys.box,
    local: { manifests, blobs, uploads },
    externalUrl: config.server.externalUrl,
    events,
  });
  // Event-based replication: a push, an API tag or a delete enqueues its execution in the change's
  // transaction, so the work commits with the change or not at all.
  events.onTransaction('ArtifactPushed', (tx, e) => replication.executions.onPushed(tx, e));
  // Harbor replicates a tag added through the API like a push of the artifact with that tag.
  events.onTransaction('TagCreated', (tx, e) => replication.executions.onPushed(tx, e));
  events.onTransaction('ArtifactDeleted', (tx, e) => replication.executions.onDeleted(tx, e));
  jobs.queue.register(replicationStartJob(replication.executions));
  jobs.queue.register(replicationPlanJob(replication.executions));
  jobs.queue.register(replicationCopyJob(replication.executions));
  const auditPurge = new AuditPurge({ store, queue: jobs.queue, scheduler: jobs.scheduler, clock });
  jobs.queue.register(auditPurgeJob(auditPurge));
  const artifacts = new ArtifactService({ store, storage, clock, events, manifests, immutability });
  const gc = new GcService({
    store,
    clock,
    queue: jobs.queue,
    scheduler: jobs.scheduler,
    collector: new GarbageCollector({
      store,
      storage,
      clock,
      log: logger,
      artifacts,
      uploads,
      graceMs: config.registry.gcGraceMinutes * 60_000,
      uploadMaxIdleMs: config.registry.uploadMaxIdleHours * 3600_000,
    }),
  });
  jobs.queue.register(gcRunJob(gcRunPayload, gc));
  registerGcMetrics(metrics, () => gc.lastResult());
  const audit = new AuditLog({ store, access, clock, log: logger, intervalMs: 1000 });
  audit.start();
  const retention = new Retention({
    store,
    clock,
    queue: jobs.queue,
    scheduler: jobs.scheduler,
    task: {
      immutable: immutability,
      deleteArtifact: (repository, digest) => artifacts.deleteByName({ log: logger }, repository, digest),
      audited: (e) =>
        audit.record({
          project: { id: e.projectId },
          operation: 'delete',
          resourceType: 'artifact',
          resource: e.resource,
          username: e.operator,
          clientIp: '',
          userAgent: 'tag retention',
          success: e.success,
        }),
      finished: (tx, e) => events.publish(tx, 'RetentionTaskFinished', e),
      afterFinished: (e) => events.emit('RetentionTaskFinished', e),
    },
  });
  jobs.queue.register(retentionStartJob(retention.executions));
  jobs.queue.register(retentionPlanJob(retention.executions));
  jobs.queue.register(retentionProcessJob(retention.executions));
  const insights = await startInsights({ store, clock, log: logger, events, jobs, intervalMs: 2000, access });
  // resource_url names the registry as clients do: the external URL's host, else the address listened on.
  let registryHost = config.server.externalUrl
    ? new URL(config.server.externalUrl).host
    : `${config.server.host}:${config.server.port}`;
  const webhooks = Webhooks.wire({
    store,
    clock,
    log: logger,
    queue: jobs.queue,
    events,
    config: config.webhooks,
    registryHost: () => registryHost,
    registryEndpoint: () => config.server.externalUrl ?? `http://${registryHost}`,
    wake: () => jobs.worker?.wake(),
  });
  jobs.start();

  const health = [
    { name: 'database', check: () => pingDatabase(handle.db) },
    { name: 'storage', check: async () => void (await storage.list('blobs')) },
  ];
  const quotaRefusals = new Counter({
    name: 'berth_quota_exceeded_total',
    help: 'Pushes (blob uploads, mounts, manifests, copies) refused by a project storage quota',
    registers: [metrics],
  });
  events.on('QuotaExceeded', () => quotaRefusals.inc());
  auditDomainEvents(events, audit);
  const proxyCache = buildProxyCache({
    ...{ store, storage, clock, log: logger, events, quota, writes, manifests, blobs, pulls },
    registries: replication.registries,
    metrics: registerProxyMetrics(metrics),
  });
  const settings = new SettingsService({ store, clock, fixed: fixedSettings(config) });
  const sessions = new SessionService({ store, clock, lifetimeHours: config.auth.session.hours });
  const server = buildServer({
    logger,
    trustProxy: config.server.trustProxy,
    registry: {
      blobs,
      uploads,
      manifests,
      proxy: proxyCache.proxy,
      auth: {
        access,
        authenticator,
        findProject: (name) => store.projects.findByName(name),
        service,
        ...(config.server.externalUrl ? { externalUrl: config.server.externalUrl } : {}),
      },
    },
    auth: {
      authenticator,
      tokens,
      session: async (cookie) => {
        const session = await sessions.resolve(cookie);
        const subject = session && (await authenticator.userById(session.userId));
        return subject && { subject, csrfToken: session!.csrfToken };
      },
    },
    session: {
      authenticator,
      sessions,
      secureCookies: (config.server.externalUrl ?? '').startsWith('https:'),
    },
    token: { tokens: new TokenService({ store, access, tokens }), service },
    api: {
      version: berthVersion,
      can: (subject, action, target) => access.can(subject, action, target),
      projectAccess: (...args) => access.projectAccess(...args),
      identity: {
        access,
        users: new UserService({ store, clock, keys, robotPrefix: config.auth.robotPrefix }),
        members: new MemberService({ store, clock }),
        groups: new UserGroupService({ store, clock }),
        robots: new RobotService({
          store,
          clock,
          prefix: config.auth.robotPrefix,
          defaultDays: async () => (await settings.values()).robotTokenDuration,
        }),
        audit,
      },
      projects: new ProjectService({
        store,
        clock,
        access,
        defaultStorageLimit: async () => (await settings.values()).storagePerProject,
        assertProxyUpstream: (id) => replication.registries.assertProxyUpstream(id),
      }),
      projectMetadata: new ProjectMetadataService({ store, clock }),
      repositories: new RepositoryService({ store, clock, events, immutability, access }),
      artifacts,
      copier: new ArtifactCopier({ store, storage, clock, manifests, immutability, quota }),
      immutability,
      quota,
      labels: new LabelService({ store, clock }),
      system: new SystemService({ store, access, dataDir: config.data.dir }),
      health,
      info: () => ({
        authMode: config.auth.mode,
        externalUrl: config.server.externalUrl,
        storageDriver: config.storage.driver,
        ...(config.auth.mode === 'oidc_auth' && config.auth.oidc
          ? { oidcProviderName: config.auth.oidc.name }
          : {}),
      }),
      ldap: {
        log: logger,
        ...(ldap && config.auth.ldap
          ? {
              ldap: {
                provider: ldap,
                options: config.auth.ldap,
                onboard: (identity) => onboarding.onboard(identity, 'ldap'),
              },
            }
          : {}),
      },
      replication,
      retention,
      settings,
      jobMonitor: new JobMonitor({ store, queue: jobs.queue, clock }),
      auditPurge,
      gc,
      insights: insights.service,
      webhooks,
    },
    ui: { dir: config.ui.dir ?? bundledUiDir() },
    ...(oidc
      ? {
          oidc: {
            login: oidc,
            sessions,
            ...(config.server.externalUrl ? { externalUrl: config.server.externalUrl } : {}),
          },
        }
      : {}),
    health,
    audit,
    metrics: {
      registry: metrics,
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
      await audit.stop();
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
  const s = config.storage;
  const inner =
    s.driver === 'filesystem'
      ? await storageDrivers.filesystem.create(storageDrivers.filesystem.optionsSchema.parse(s.filesystem))
      : s.driver === 's3'
        ? await storageDrivers.s3.create(s.s3)
        : await storageDrivers.memory.create(storageDrivers.memory.optionsSchema.parse(s.memory));
  return new InstrumentedDriver(inner, histogram);
}
