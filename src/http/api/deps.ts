import type { ArtifactCopier } from '../../services/artifacts/artifact-copy.js';
import type { ArtifactService } from '../../services/artifacts/artifact-service.js';
import type { LabelService } from '../../services/labels/label-service.js';
import type { ImmutabilityService } from '../../services/policies/immutability/immutability-service.js';
import type { ProjectMetadataService } from '../../services/projects/project-metadata-service.js';
import type { QuotaService } from '../../services/policies/quota/quota-service.js';
import type { ProjectService } from '../../services/projects/project-service.js';
import type { RepositoryService } from '../../services/repositories/repository-service.js';
import type { SystemService } from '../../services/system/system-service.js';
import type { Replication } from '../../services/replication/replication.js';
import type { Retention } from '../../services/policies/retention/retention.js';
import type { SettingsService } from '../../services/settings/settings.js';
import type { JobMonitor } from '../../jobs/monitor.js';
import type { AuditPurge } from '../../services/audit/audit-purge.js';
import type { GcService } from '../../services/gc/gc-service.js';
import type { InsightService } from '../../services/insights/insight-service.js';
import type { Webhooks } from '../../services/webhooks/webhooks.js';
import type { ScanService } from '../../services/scanning/scan-service.js';
import type { ScanExports } from '../../services/scan-export/scan-exports.js';
import type { SecurityHub } from '../../services/securityhub/security-hub.js';
import type { ScannerRegistrations } from '../../services/scanning/registrations/scanner-registrations.js';
import type { ScanAll } from '../../services/scanning/scan-all.js';
import type { CveAllowlists } from '../../services/scanning/cve-allowlists.js';
import type { Preheat } from '../../services/preheat/wire-preheat.js';
import type { AccessControl } from '../../services/access/access-control.js';
import type { Can } from './access.js';
import type { IdentityApiDeps } from './identity-deps.js';
import type { HealthCheck } from '../health.js';
import type { LdapDirectory } from '../../services/access/ldap-directory.js';

/** What the /api/v2.0 surface needs: the services it calls and the one permission question. */
export interface ApiDeps {
  /** Berth's version, for swagger.json and systeminfo. */
  version: string;
  can: Can;
  /** Whether the caller may act in a project, or must be told it does not exist (AccessControl). */
  projectAccess: AccessControl['projectAccess'];
  /** Users, groups, members, robots and the audit log. */
  identity?: IdentityApiDeps;
  projects: ProjectService;
  projectMetadata: ProjectMetadataService;
  repositories: RepositoryService;
  artifacts: ArtifactService;
  copier: ArtifactCopier;
  /** Storage quotas: limits and their enforcement. */
  quota: QuotaService;
  labels: LabelService;
  /** Tag immutability rules (swagger tag `immutable`). */
  immutability: ImmutabilityService;
  system: SystemService;
  health: HealthCheck[];
  /** Harbor's Ldap operations: the configured directory (if any) and onboarding. */
  ldap: LdapDirectory;
  replication: Replication;
  /** Tag retention policies and their executions. */
  retention: Retention;
  /** Run-time settings (/configurations): project creation restriction, robot expiry. */
  settings: SettingsService;
  /** The job service dashboard (jobservice and schedule tags). */
  jobMonitor: JobMonitor;
  /** Audit log rotation (purge tag). */
  auditPurge: AuditPurge;
  /** Garbage collection: runs, schedule, logs. */
  gc: GcService;
  /** Activity insights: daily aggregates of pushes, pulls, users, storage (docs/insights.md). */
  insights: InsightService;
  /** Project webhook policies and their deliveries (webhook and webhookjob tags). */
  webhooks: Webhooks;
  /** P2P preheat: provider instances, policies, runs and executions (preheat tag). */
  preheat: Preheat;
  /** Vulnerability scans: reports, overviews, logs (scan tag). */
  scans: ScanService;
  /** Scan all: runs, schedule, metrics, stop (scanAll tag). */
  scanAll: ScanAll;
  /** Every artifact's vulnerabilities at once (securityhub tag). */
  securityHub: SecurityHub;
  /** CSV exports of a project's vulnerabilities (scan data export tag). */
  scanExports: ScanExports;
  /** Scanner registrations, the default scanner and each project's (scanner tag, project scanner). */
  scanners: ScannerRegistrations;
  /** The system's and projects' CVE allowlists. */
  allowlists: CveAllowlists;
}
