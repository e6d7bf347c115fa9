import { z } from 'zod';
import { ldapOptions, oidcOptions } from '../auth/providers/options.js';
import { filesystemOptions } from '../storage/filesystem.js';
import { memoryOptions } from '../storage/memory.js';
import { s3Options } from '../storage/s3-options.js';

/**
 * The one typed configuration schema: infrastructure only (ports, URLs, drivers, secrets). Harbor's runtime
 * settings live in the database. berth.example.yaml documents every key with its default.
 */
const port = z.coerce.number().int().min(0).max(65535);
const bool = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());

/** `auto` or a whole number of processes: shared by the config key and `serve --workers`. */
const workersMessage = 'must be "auto" or a whole number of processes from 1 to 256';
export const workersSchema = z.union(
  [z.literal('auto'), z.coerce.number().int(workersMessage).min(1, workersMessage).max(256, workersMessage)],
  { error: workersMessage },
);

export const configSchema = z
  .object({
    server: z
      .object({
        host: z.string().default('0.0.0.0'),
        port: port.default(5000),
        /** The URL clients use to reach Berth; derived from the request when unset. */
        externalUrl: z.url().optional(),
        trustProxy: bool.default(false),
        /** On shutdown, requests still running after this long are cut off. */
        shutdownTimeoutSeconds: z.coerce.number().min(0).max(3600).default(5),
        /** HTTP processes sharing the port (`serve --workers`): `auto` = one per core, see docs/scale-out.md. */
        workers: workersSchema.default('auto'),
      })
      .strict()
      .prefault({}),
    data: z
      .object({ dir: z.string().min(1).default('./data') })
      .strict()
      .prefault({}),
    database: z
      .object({
        /** sqlite:<file> (default: <data.dir>/berth.db) or postgres://user:pass@host:5432/db */
        url: z
          .string()
          .regex(/^(sqlite:|postgres:\/\/|postgresql:\/\/)/, 'must start with sqlite: or postgres://')
          .optional(),
        /** Apply pending migrations at start-up (under a lock); false: refuse to start unless current. */
        migrate: bool.default(true),
        /**
         * SQLite: copy the WAL back into the database file on a thread of its own (started once the WAL
         * has grown), not in the commits of the serving thread. false: SQLite's own checkpoints in commits.
         */
        checkpointThread: bool.default(true),
        /**
         * SQLite: the serving connection's page cache, in MiB (2^20 bytes); SQLite's stock size. The
         * operating system caches the database file too, so a page missing here is read from memory, not
         * from the disk; better-sqlite3's build default (16 MiB) held 15-20 MiB more at the bench's peaks
         * with no PUT throughput gained (docs/scale-out.md "Memory").
         */
        sqliteCacheMb: z.coerce.number().int().min(1).max(4096).default(2),
        pool: z
          .object({
            max: z.coerce.number().int().min(1).max(1000).default(10),
            /** How long a request waits for a connection before it is answered 503 with Retry-After. */
            acquireTimeoutMs: z.coerce.number().int().min(1).default(5000),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    storage: z
      .discriminatedUnion('driver', [
        z
          .object({ driver: z.literal('filesystem'), filesystem: filesystemOptions.partial().prefault({}) })
          .strict(),
        z.object({ driver: z.literal('memory'), memory: memoryOptions.prefault({}) }).strict(),
        z.object({ driver: z.literal('s3'), s3: s3Options }).strict(),
      ])
      .prefault({ driver: 'filesystem' }),
    registry: z
      .object({
        /** Upload sessions idle this long are removed with their bytes (purged hourly by the upload.purge job). */
        uploadMaxIdleHours: z.coerce.number().positive().default(168),
        /**
         * Garbage collection keeps an unreferenced blob uploaded or mounted this recently (a push may still
         * be on its way to the manifest PUT). Blobs of deleted artifacts are not held back by it.
         */
        gcGraceMinutes: z.coerce.number().min(0).default(60),
        /**
         * A manifest fetched through a proxy-cache project whose blobs no client pulled within this long is
         * made whole by the `proxy.complete` job (Harbor waits up to 200 s).
         */
        proxyCompleteAfterSeconds: z.coerce.number().min(0).default(120),
        /**
         * Bytes a proxy-cache project's fetches may hold in memory, per process, while storage is behind the
         * clients, in MiB (2^20 bytes); past it they wait for storage. Every process of `--workers` holds its own.
         */
        proxyBacklogMb: z.coerce.number().int().min(1).default(4),
        /**
         * Manifest bytes kept in memory per process, by digest, in MiB (2^20 bytes; each entry weighed at its
         * size plus 256 bytes for its key and objects): pulls of these skip a storage read. 0 keeps none.
         */
        manifestCacheMb: z.coerce.number().min(0).default(4),
        /**
         * Proxied blobs from a plain-HTTP upstream are hashed on a thread of their own, beside the event loop
         * that writes them to the clients and storage (false: on the event loop).
         */
        proxyHashThread: bool.default(true),
      })
      .strict()
      .prefault({}),
    ui: z
      .object({
        /** The built web UI served at `/`; default: the bundle in this package (dist/web). */
        dir: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    jobs: z
      .object({
        /** Jobs this process runs at once; 0 = serve HTTP only (run `berth worker` elsewhere). */
        workers: z.coerce.number().int().min(0).max(256).default(4),
        /**
         * Per job kind caps within `workers`, e.g. { "replication.copy": 2 }; for a kind with slots of its own
         * beside `workers` (webhook.deliver: 32), their number.
         */
        concurrency: z.record(z.string(), z.coerce.number().int().min(1)).default({}),
        /** A job whose worker stops heartbeating is picked up by another worker after this long. */
        leaseSeconds: z.coerce.number().positive().default(30),
        /** How often an idle worker looks for new jobs. */
        pollIntervalMs: z.coerce.number().int().min(10).default(1000),
      })
      .strict()
      .prefault({}),
    scanning: z
      .object({
        /**
         * Scans the built-in scanner runs at once, each in a scanning process (or thread) of its own, so a
         * scan does not slow the pulls this process serves; scans beyond it wait. 0 scans on the event loop.
         */
        workers: z.coerce.number().int().min(0).max(64).default(1),
        /**
         * `process`: each scan runs in a child process niced as a whole that reads the layers and writes the
         * report itself (started at the first scan, ended after a minute without one); `thread`: in a
         * niced worker thread of this process, which writes the report.
         */
        isolation: z.enum(['process', 'thread']).default('process'),
        /**
         * While the rest of the machine uses more than half a core (serving pulls), the scanning processes
         * together use at most this share of the machine's CPU (all its cores; each process at least 5 % of
         * one core), their writes included, held stopped when over it; 1 lets them run as nice 19 allows.
         * Linux only; scan threads are not held.
         */
        cpuShareWhenBusy: z.coerce.number().gt(0).max(1).default(0.05),
      })
      .strict()
      .prefault({}),
    webhooks: z
      .object({
        /** Time limit of one request to a webhook target (Harbor: 3 s). */
        timeoutSeconds: z.coerce.number().positive().default(3),
        /** Runs of a delivery in total, the first included; then it fails. */
        maxAttempts: z.coerce.number().int().min(1).max(100).default(5),
        /** Delay before the second run; doubles for each further run (up to 5 minutes). */
        retryDelayMs: z.coerce.number().int().min(10).default(2000),
        /** Requests in flight at once to one target, per worker: a slow receiver holds no more slots. */
        concurrencyPerTarget: z.coerce.number().int().min(1).max(64).default(8),
        /** Pull events are held this long in memory and their deliveries written together. */
        pullBatchMs: z.coerce.number().int().min(10).default(1000),
        /**
         * `idle`: the delivery thread runs on CPU time the requests leave (Linux SCHED_IDLE), and hands
         * over to a thread at normal priority when that makes it fall behind; `normal`: the process's.
         */
        deliveryPriority: z.enum(['idle', 'normal']).default('idle'),
      })
      .strict()
      .prefault({}),
    preheat: z
      .object({
        /** How often a preheat task asks its provider how the preheating goes (Harbor: 10 s). */
        checkIntervalSeconds: z.coerce.number().positive().default(10),
        /** A preheat task that has not finished after this long fails (Harbor: 1801 s). */
        checkTimeoutSeconds: z.coerce.number().positive().default(1801),
      })
      .strict()
      .prefault({}),
    admin: z
      .object({
        /** The admin password set on first start; when unset a random one is printed once. Ignored later. */
        password: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    auth: z
      .object({
        /** Harbor's auth_mode. */
        mode: z.enum(['db_auth', 'ldap_auth', 'oidc_auth']).default('db_auth'),
        token: z
          .object({
            /** Lifetime of /service/token JWTs. */
            expiryMinutes: z.coerce.number().int().min(1).max(10080).default(30),
          })
          .strict()
          .prefault({}),
        /** Prefix of robot account names, as Harbor's robot_name_prefix. */
        robotPrefix: z.string().min(1).max(32).default('robot$'),
        throttle: z
          .object({
            /** Failed logins per user name within the window before further attempts are refused. */
            maxFailures: z.coerce.number().int().min(1).default(10),
            /** Failed logins per client IP within the window (many users may share an address). */
            maxFailuresPerIp: z.coerce.number().int().min(1).default(100),
            windowSeconds: z.coerce.number().int().min(1).default(300),
          })
          .strict()
          .prefault({}),
        session: z
          .object({ hours: z.coerce.number().positive().default(8) })
          .strict()
          .prefault({}),
        /** The directory for ldap_auth (Harbor's ldap_* settings; see options.ts). */
        ldap: ldapOptions.optional(),
        /** The OpenID provider for oidc_auth (Harbor's oidc_* settings; see options.ts). */
        oidc: oidcOptions.optional(),
      })
      .strict()
      .superRefine((auth, ctx) => {
        if (auth.mode === 'ldap_auth' && !auth.ldap)
          ctx.addIssue({ code: 'custom', path: ['ldap'], message: 'required when auth.mode is ldap_auth' });
        if (auth.mode === 'oidc_auth' && !auth.oidc)
          ctx.addIssue({ code: 'custom', path: ['oidc'], message: 'required when auth.mode is oidc_auth' });
      })
      .prefault({}),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type BerthConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.infer<typeof configSchema>;

/** The config after load: every derived default filled in. */
export type BerthConfig = ParsedConfig & { database: { url: string } };

/** Env variables that map to config keys (BERTH_ + the YAML path in SCREAMING_SNAKE). */
export const envKeys = [
  'server.host',
  'server.port',
  'server.externalUrl',
  'server.trustProxy',
  'server.shutdownTimeoutSeconds',
  'server.workers',
  'data.dir',
  'database.url',
  'database.migrate',
  'database.checkpointThread',
  'database.sqliteCacheMb',
  'database.pool.max',
  'database.pool.acquireTimeoutMs',
  'storage.driver',
  'storage.filesystem.root',
  'storage.s3.bucket',
  'storage.s3.region',
  'storage.s3.endpoint',
  'storage.s3.forcePathStyle',
  'storage.s3.accessKeyId',
  'storage.s3.secretAccessKey',
  'storage.s3.prefix',
  'storage.s3.redirect',
  'storage.s3.connectTimeoutMs',
  'storage.s3.idleTimeoutMs',
  'storage.s3.maxAttempts',
  'registry.uploadMaxIdleHours',
  'registry.gcGraceMinutes',
  'registry.proxyCompleteAfterSeconds',
  'registry.proxyBacklogMb',
  'registry.manifestCacheMb',
  'registry.proxyHashThread',
  'ui.dir',
  'jobs.workers',
  'jobs.leaseSeconds',
  'jobs.pollIntervalMs',
  'scanning.workers',
  'scanning.isolation',
  'scanning.cpuShareWhenBusy',
  'webhooks.timeoutSeconds',
  'webhooks.maxAttempts',
  'webhooks.retryDelayMs',
  'webhooks.concurrencyPerTarget',
  'webhooks.pullBatchMs',
  'webhooks.deliveryPriority',
  'preheat.checkIntervalSeconds',
  'preheat.checkTimeoutSeconds',
  'admin.password',
  'auth.mode',
  'auth.token.expiryMinutes',
  'auth.robotPrefix',
  'auth.throttle.maxFailures',
  'auth.throttle.maxFailuresPerIp',
  'auth.throttle.windowSeconds',
  'auth.session.hours',
  'auth.ldap.url',
  'auth.ldap.searchDn',
  'auth.ldap.searchPassword',
  'auth.ldap.baseDn',
  'auth.ldap.filter',
  'auth.ldap.uid',
  'auth.ldap.scope',
  'auth.ldap.timeoutSeconds',
  'auth.ldap.verifyCert',
  'auth.ldap.groupBaseDn',
  'auth.ldap.groupFilter',
  'auth.ldap.groupAttribute',
  'auth.ldap.groupScope',
  'auth.ldap.groupAdminDn',
  'auth.ldap.groupMembershipAttribute',
  'auth.oidc.name',
  'auth.oidc.issuer',
  'auth.oidc.clientId',
  'auth.oidc.clientSecret',
  'auth.oidc.scope',
  'auth.oidc.userClaim',
  'auth.oidc.groupsClaim',
  'auth.oidc.adminGroup',
  'auth.oidc.groupFilter',
  'auth.oidc.verifyCert',
  'auth.oidc.allowInsecureHttp',
  'auth.oidc.timeoutSeconds',
  'auth.oidc.cliSecretLifetimeHours',
  'log.level',
] as const;
