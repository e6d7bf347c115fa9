import type { Kysely } from 'kysely';
import { ArtifactRepo } from './repos/artifacts.js';
import { ArtifactCatalog } from './repos/artifact-catalog.js';
import { AuditRepo } from './repos/audit.js';
import { AuthStateRepo } from './repos/auth-state.js';
import { ProjectMemberRepo } from './repos/members.js';
import { RobotRepo } from './repos/robots.js';
import { UserGroupRepo } from './repos/user-groups.js';
import { UserRepo } from './repos/users.js';
import { BlobRepo } from './repos/blobs.js';
import { CveAllowlistRepo } from './repos/cve-allowlists.js';
import { ImmutableRuleRepo } from './repos/immutable-rules.js';
import { InsightRepo } from './repos/insights.js';
import { ExecutionRepo } from './repos/executions.js';
import { PreheatPolicyRepo } from './repos/preheat-policies.js';
import { JobMonitorRepo } from './repos/job-monitor.js';
import { GcRepo } from './repos/gc.js';
import { JobRepo } from './repos/jobs.js';
import { LabelRepo } from './repos/labels.js';
import { LayerInventoryRepo } from './repos/layer-inventories.js';
import { NotificationPolicyRepo } from './repos/notification-policies.js';
import { ProjectCatalog } from './repos/project-catalog.js';
import { ProjectRepo } from './repos/projects.js';
import { ProjectTransferRepo } from './repos/project-transfer.js';
import { ProxyCacheRepo } from './repos/proxy-cache.js';
import { RepositoryCatalog } from './repos/repository-catalog.js';
import { RegistryRepo } from './repos/registries.js';
import { PreheatInstanceRepo } from './repos/preheat-instances.js';
import { ReplicationRepo } from './repos/replication.js';
import { RepositoryRepo } from './repos/repositories.js';
import { RetentionRepo } from './repos/retention.js';
import { ScanReportRepo } from './repos/scan-reports.js';
import { SecurityHubRepo } from './repos/security-hub.js';
import { ScannerRegistrationRepo } from './repos/scanner-registrations.js';
import { ScheduleRepo } from './repos/schedules.js';
import { SettingRepo } from './repos/settings.js';
import { TagRepo } from './repos/tags.js';
import { UploadRepo } from './repos/uploads.js';
import { VulnDbRepo } from './repos/vuln-db.js';
import { uncached, type CachedReads, type ReadCache } from './read-cache.js';
import type { Database } from './tables.js';

/** The repositories over one Kysely handle (the pool, or a transaction). */
export class Repos {
  readonly projects: ProjectRepo;
  readonly repositories: RepositoryRepo;
  readonly blobs: BlobRepo;
  readonly gc: GcRepo;
  readonly artifacts: ArtifactRepo;
  readonly tags: TagRepo;
  readonly uploads: UploadRepo;
  readonly jobs: JobRepo;
  readonly schedules: ScheduleRepo;
  readonly jobMonitor: JobMonitorRepo;
  /** Harbor's executions of one vendor type (system jobs, webhooks) and their tasks. */
  readonly executions: (vendor: string) => ExecutionRepo;
  readonly projectCatalog: ProjectCatalog;
  readonly repositoryCatalog: RepositoryCatalog;
  readonly artifactCatalog: ArtifactCatalog;
  readonly labels: LabelRepo;
  readonly users: UserRepo;
  readonly userGroups: UserGroupRepo;
  readonly members: ProjectMemberRepo;
  readonly robots: RobotRepo;
  readonly audit: AuditRepo;
  readonly authState: AuthStateRepo;
  readonly registries: RegistryRepo;
  readonly preheatInstances: PreheatInstanceRepo;
  readonly preheatPolicies: PreheatPolicyRepo;
  readonly replication: ReplicationRepo;
  readonly settings: SettingRepo;
  readonly immutableRules: ImmutableRuleRepo;
  readonly retention: RetentionRepo;
  readonly insights: InsightRepo;
  readonly notificationPolicies: NotificationPolicyRepo;
  readonly vulnDb: VulnDbRepo;
  readonly layerInventories: LayerInventoryRepo;
  readonly proxyCache: ProxyCacheRepo;
  readonly scanReports: ScanReportRepo;
  readonly securityHub: SecurityHubRepo;
  readonly cveAllowlists: CveAllowlistRepo;
  readonly scanners: ScannerRegistrationRepo;
  readonly projectTransfer: ProjectTransferRepo;

  /** `reads` answers the reads of rarely-changed rows that may come from memory (db/read-cache.ts). */
  constructor(db: Kysely<Database>, reads: CachedReads = uncached) {
    this.projects = new ProjectRepo(db, reads);
    this.repositories = new RepositoryRepo(db);
    this.blobs = new BlobRepo(db);
    this.gc = new GcRepo(db);
    this.artifacts = new ArtifactRepo(db);
    this.tags = new TagRepo(db);
    this.uploads = new UploadRepo(db);
    this.jobs = new JobRepo(db);
    this.schedules = new ScheduleRepo(db);
    this.jobMonitor = new JobMonitorRepo(db);
    this.executions = (vendor) => new ExecutionRepo(db, vendor);
    this.projectCatalog = new ProjectCatalog(db, reads);
    this.repositoryCatalog = new RepositoryCatalog(db);
    this.artifactCatalog = new ArtifactCatalog(db);
    this.labels = new LabelRepo(db);
    this.users = new UserRepo(db, reads);
    this.userGroups = new UserGroupRepo(db);
    this.members = new ProjectMemberRepo(db);
    this.robots = new RobotRepo(db);
    this.audit = new AuditRepo(db);
    this.authState = new AuthStateRepo(db);
    this.registries = new RegistryRepo(db);
    this.replication = new ReplicationRepo(db, reads);
    this.settings = new SettingRepo(db);
    this.immutableRules = new ImmutableRuleRepo(db, reads);
    this.retention = new RetentionRepo(db);
    this.insights = new InsightRepo(db);
    this.notificationPolicies = new NotificationPolicyRepo(db, reads);
    this.vulnDb = new VulnDbRepo(db);
    this.layerInventories = new LayerInventoryRepo(db);
    this.proxyCache = new ProxyCacheRepo(db);
    this.scanReports = new ScanReportRepo(db);
    this.securityHub = new SecurityHubRepo(db);
    this.cveAllowlists = new CveAllowlistRepo(db);
    this.scanners = new ScannerRegistrationRepo(db);
    this.projectTransfer = new ProjectTransferRepo(db);
    this.preheatInstances = new PreheatInstanceRepo(db);
    this.preheatPolicies = new PreheatPolicyRepo(db, reads);
  }
}

/** What services see of the metadata database: repositories, and a unit of work across them. */
export class MetaStore extends Repos {
  private readonly db: Kysely<Database>;

  /** `cache`, when given, answers reads of the watched tables from memory and is dropped on writes to them. */
  constructor(
    db: Kysely<Database>,
    private readonly cache?: ReadCache,
  ) {
    const watched = cache ? db.withPlugin(cache.writeWatcher()) : db;
    super(watched, cache);
    this.db = watched;
  }

  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
    if (!this.cache) return this.db.transaction().execute((trx) => fn(new Repos(trx)));
    const { reads, watcher, committed } = this.cache.forTransaction();
    return this.db
      .transaction()
      .execute((trx) => fn(new Repos(trx.withPlugin(watcher), reads)))
      .then((result) => {
        committed();
        return result;
      });
  }
}
