import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { P2pPreheatInstanceTable, P2pPreheatPolicyTable } from './tables-p2p.js';

export type { P2pPreheatInstanceTable, P2pPreheatPolicyTable } from './tables-p2p.js';

/**
 * Row types. Timestamps are ISO-8601 UTC strings and booleans are 0/1 integers, so one set of queries reads
 * the same on SQLite and PostgreSQL.
 */
export interface ProjectTable {
  id: Generated<number>;
  name: string;
  public: number;
  owner_id: number | null;
  creation_time: string;
  update_time: string;
  /** The registry endpoint of a proxy-cache project; null for a normal project. */
  registry_id: ColumnType<number | null, number | null | undefined, number | null>;
}

/** The last successful upstream check of a tag in a proxy-cache project. */
export interface ProxyTagTable {
  repository: string;
  tag: string;
  digest: string;
  checked_at: string;
}

/** A manifest fetched from an upstream whose blobs are not all cached yet. */
export interface ProxyManifestTable {
  project_id: number;
  repository: string;
  digest: string;
  tag: string | null;
  operator: string;
  fetched_at: string;
}

/** A child listed by a cached index that was not cached itself when the index was recorded. */
export interface ProxyIndexChildTable {
  repository: string;
  parent_digest: string;
  child_digest: string;
  platform: string | null;
}

/** A node's claim on fetching one blob for one project from its upstream. */
/** A scanner (the built-in one, or an external Pluggable Scanner API adapter). Booleans are 0/1. */
export interface ScannerRegistrationTable {
  id: Generated<number>;
  uuid: string;
  name: string;
  description: string;
  url: string;
  /** '' (none), 'Basic', 'Bearer' or 'X-ScannerAdapter-API-Key'. */
  auth: string;
  /** Sealed (AES-256-GCM); never returned by the API. */
  access_credential: string;
  skip_cert_verify: number;
  use_internal_addr: number;
  disabled: number;
  is_default: number;
  /** The built-in registration: neither updated nor deleted. */
  immutable: number;
  create_time: string;
  update_time: string;
}

export interface ProjectScannerTable {
  project_id: number;
  registration_uuid: string;
}

export interface ProxyFetchTable {
  fetch_key: string;
  owner: string;
  expires_at: string;
}

export interface ProxyReferrerPageTable {
  page_key: string;
  project_id: number;
  /** The referrers index as served. */
  body: string;
  /** JSON object of the headers served with it. */
  headers: string;
  stored_at: string;
}

export interface RepositoryTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  description: string;
  pull_count: Generated<number>;
  creation_time: string;
  update_time: string;
}

export interface BlobTable {
  id: Generated<number>;
  digest: string;
  size: number;
  creation_time: string;
  /** Last upload or mount (an unreferenced blob touched within GC's grace period is kept). */
  touch_time: string;
  /** Last manifest PUT that referenced it. */
  ref_time: string | null;
  /** Bumped by every upload, mount and referencing manifest PUT; GC marks only the version it examined. */
  version: Generated<number>;
  /** Set while garbage collection deletes the bytes; null = live. */
  gc_mark: string | null;
  /** 1 when the blob holds manifest bytes. */
  manifest: Generated<number>;
}

export interface ProjectBlobTable {
  project_id: number;
  blob_id: number;
  creation_time: string;
}

export interface ArtifactTable {
  id: Generated<number>;
  repository_id: number;
  digest: string;
  media_type: string;
  artifact_type: string | null;
  /** Size of the manifest bytes. */
  manifest_size: number;
  /** Manifest plus every blob it references. */
  size: number;
  subject_digest: string | null;
  config_digest: string | null;
  annotations: string | null;
  push_time: string;
  pull_time: string | null;
}

export interface TagTable {
  id: Generated<number>;
  repository_id: number;
  artifact_id: number;
  name: string;
  push_time: string;
  pull_time: string | null;
}

export interface ArtifactBlobTable {
  artifact_id: number;
  blob_digest: string;
}

export interface ArtifactReferenceTable {
  parent_id: number;
  child_id: number;
  child_digest: string;
  platform: string | null;
}

export interface UploadTable {
  id: string;
  repository_name: string;
  project_id: number;
  size: number;
  creation_time: string;
  update_time: string;
}

export type JobStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'stopped';

export interface JobTable {
  id: Generated<number>;
  kind: string;
  /** JSON, validated by the kind's schema on enqueue and on run. */
  payload: string;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  run_after: string;
  lease_owner: string | null;
  lease_until: string | null;
  heartbeat_time: string | null;
  stop_requested: number;
  execution_id: number | null;
  /** Concurrency group within the kind (a webhook target); null for none. */
  group_key: string | null;
  last_error: string | null;
  creation_time: string;
  start_time: string | null;
  end_time: string | null;
  update_time: string;
}

export interface JobLogTable {
  id: Generated<number>;
  job_id: number;
  time: string;
  line: string;
}

export interface ScheduleTable {
  id: Generated<number>;
  name: string;
  cron: string;
  kind: string;
  payload: string;
  enabled: number;
  next_fire_time: string | null;
  last_fire_time: string | null;
  creation_time: string;
  update_time: string;
}

export interface ScheduleFireTable {
  schedule_id: number;
  fire_time: string;
  job_id: number | null;
}

export interface JobQueueStatusTable {
  id: Generated<number>;
  /** A job kind, or `SCHEDULER` for the cron scheduler (Harbor's name for it). */
  job_type: string;
  paused: number;
  update_time: string;
}

/** One process's job worker, as the dashboard lists it. `id` is the worker's lease owner. */
export interface JobWorkerPoolTable {
  id: string;
  pid: number;
  host: string;
  concurrency: number;
  start_time: string;
  heartbeat_time: string;
}

export interface ExecutionTable {
  id: Generated<number>;
  vendor_type: string;
  vendor_id: number;
  trigger: string;
  status: string;
  status_message: string;
  extra_attrs: string;
  start_time: string;
  end_time: string | null;
  update_time: string;
  /**
   * An execution that ran its one task inline (a webhook delivery that ended at its first try: migration
   * 0022) carries that task here, with no job row: its start and its log text (as the log API answers
   * it). Null otherwise.
   */
  task_start_time: string | null;
  task_log: string | null;
}

export interface LabelTable {
  id: Generated<number>;
  name: string;
  description: string;
  color: string;
  /** 'g' global, 'p' project */
  scope: 'g' | 'p';
  /** 0 for global labels. */
  project_id: number;
  creation_time: string;
  update_time: string;
}

export interface ArtifactLabelTable {
  artifact_id: number;
  label_id: number;
  creation_time: string;
}

export interface ProjectMetadataTable {
  project_id: number;
  name: string;
  value: string;
  creation_time: string;
  update_time: string;
}

/** Activity insights (0020): daily counters, only ever added to, so several nodes can flush into them. */
export interface InsightRepositoryDayTable {
  /** UTC date, YYYY-MM-DD. */
  day: string;
  project_id: number;
  repository: string;
  pushes: number;
  pulls: number;
  deletes: number;
  push_bytes: number;
  pull_bytes: number;
}

export interface InsightUserDayTable {
  day: string;
  project_id: number;
  username: string;
  pushes: number;
  pulls: number;
}

/** A project's quota usage on a day (the last snapshot taken that day). */
export interface InsightStorageDayTable {
  day: string;
  project_id: number;
  used_bytes: number;
}

/** A project's open vulnerabilities by severity on a day (the last count scanning reported that day). */
export interface InsightVulnerabilityDayTable {
  day: string;
  project_id: number;
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
}

/** One import of the vulnerability database (0018): `loading`, then `active`, then `retired`. */
export interface VulnDbImportTable {
  id: Generated<number>;
  state: 'loading' | 'active' | 'retired';
  version: string;
  source: string;
  record_count: number;
  skipped_count: number;
  import_time: string;
  update_time: string;
}

export interface VulnAdvisoryTable {
  import_id: number;
  id: string;
  /** JSON arrays of strings. */
  aliases: string;
  summary: string;
  details: string;
  links: string;
  cwe_ids: string;
  modified: string;
}

export interface VulnAffectedTable {
  import_id: number;
  ecosystem: string;
  name: string;
  vuln_id: string;
  /** JSON: OSV ranges (GIT left out) and listed versions. */
  ranges: string;
  versions: string;
  severity: string;
  /** JSON: CVSS vectors and base scores per CVSS version. */
  cvss: string;
}

/** A scan report (0023): one per (digest, scanner registration, report MIME type). */
export interface ScanReportTable {
  id: Generated<number>;
  uuid: string;
  digest: string;
  registration_uuid: string;
  mime_type: string;
  /** Harbor's job statuses: Pending, Running, Success, Error, Stopped. */
  status: string;
  job_id: number | null;
  /** The highest severity found ('' until the scan succeeded). */
  severity: string;
  critical_cnt: number;
  high_cnt: number;
  medium_cnt: number;
  low_cnt: number;
  none_cnt: number;
  unknown_cnt: number;
  fixable_cnt: number;
  total_cnt: number;
  /** JSON `{name, vendor, version}` of the scanner that wrote the report; '' before. */
  scanner: string;
  /** The report document (JSON text); null until the scan succeeded. */
  report: string | null;
  log: string;
  start_time: string;
  end_time: string | null;
}

/** One vulnerability of a report, for queries across reports (security hub, CVE export). */
export interface ScanVulnerabilityTable {
  report_id: number;
  cve_id: string;
  package: string;
  version: string;
  fix_version: string;
  severity: string;
  /** Harbor's severity code: None 0, Unknown 1, Low 2, Medium 3, High 4, Critical 5. */
  severity_code: number;
  cvss_score_v3: number | null;
  cvss_score_v2: number | null;
  description: string;
  /** JSON array of URLs. */
  links: string;
}

/** A CVE allowlist: project_id 0 is the system's. */
export interface CveAllowlistTable {
  id: Generated<number>;
  project_id: number;
  /** Unix seconds; null = never expires. */
  expires_at: number | null;
  /** JSON `[{"cve_id": "..."}]`. */
  items: string;
  creation_time: string;
  update_time: string;
}

export interface QuotaTable {
  project_id: number;
  /** Storage limit in bytes; -1 for none. */
  hard_storage: number;
  /** Bytes of the distinct blobs linked to the project, kept with every link and unlink. */
  used_storage: Generated<number>;
  creation_time: string;
  update_time: string;
}

export interface UserTable {
  id: Generated<number>;
  username: string;
  email: string | null;
  realname: string;
  comment: string;
  password_hash: string | null;
  sysadmin: number;
  auth_source: string;
  external_subject: string | null;
  cli_secret: string | null;
  cli_secret_time: string | null;
  /** 1 when the identity provider made the user an admin at the last login (Harbor's AdminRoleInAuth). */
  admin_in_auth: Generated<number>;
  creation_time: string;
  update_time: string;
}

export interface UserGroupTable {
  id: Generated<number>;
  group_name: string;
  group_type: number;
  ldap_group_dn: string;
  creation_time: string;
  update_time: string;
}

export interface UserGroupMemberTable {
  user_id: number;
  group_id: number;
}

export interface ProjectMemberTable {
  id: Generated<number>;
  project_id: number;
  entity_id: number;
  entity_type: 'u' | 'g';
  role_id: number;
  creation_time: string;
  update_time: string;
}

export interface RobotTable {
  id: Generated<number>;
  name: string;
  description: string;
  secret_hash: string;
  level: 'system' | 'project';
  project_id: number | null;
  disabled: number;
  duration: number;
  expires_at: number;
  creator_ref: string;
  creation_time: string;
  update_time: string;
}

export interface RobotPermissionTable {
  id: Generated<number>;
  robot_id: number;
  kind: 'project' | 'system';
  namespace: string;
  resource: string;
  action: string;
}

export interface AuditLogTable {
  id: Generated<number>;
  project_id: number | null;
  operation: string;
  resource_type: string;
  resource: string;
  username: string;
  client_ip: string;
  user_agent: string;
  success: number;
  op_time: string;
}

export interface UiSessionTable {
  id: string;
  user_id: number;
  csrf_token: string;
  expires_at: string;
  creation_time: string;
}

export interface AuthFailureTable {
  key: string;
  failures: number;
  window_start: string;
}

export interface SecretKeyTable {
  name: string;
  value: string;
  creation_time: string;
}

export interface RegistryTable {
  id: Generated<number>;
  name: string;
  type: string;
  url: string;
  description: string;
  credential_type: string;
  access_key: string;
  /** Sealed (AES-256-GCM); never returned by the API. */
  access_secret: string;
  insecure: number;
  status: string;
  creation_time: string;
  update_time: string;
}

export interface ReplicationPolicyTable {
  id: Generated<number>;
  name: string;
  description: string;
  /** null = this Berth (push-based when the destination is remote). */
  src_registry_id: number | null;
  dest_registry_id: number | null;
  dest_namespace: string;
  dest_namespace_replace_count: number;
  /** JSON: Harbor's ReplicationTrigger. */
  trigger: string;
  /** JSON: Harbor's ReplicationFilter[]. */
  filters: string;
  replicate_deletion: number;
  override: number;
  enabled: number;
  speed: number;
  copy_by_chunk: number;
  creation_time: string;
  update_time: string;
}

/** Runtime settings (/configurations): value is the JSON text of the setting. */
export interface SettingTable {
  name: string;
  value: string;
  update_time: string;
}

/** A tag immutability rule; the selectors are JSON text. */
/** Harbor's `notification_policy`: a project's webhook policy; targets and event types are JSON text. */
export interface NotificationPolicyTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  description: string;
  targets: string;
  event_types: string;
  creator: string;
  enabled: number;
  creation_time: string;
  update_time: string;
}

export interface ImmutableTagRuleTable {
  id: Generated<number>;
  project_id: number;
  priority: number;
  disabled: number;
  action: string;
  template: string;
  scope_selectors: string;
  tag_selectors: string;
  creation_time: string;
  update_time: string;
}

/** A project's tag retention policy; `rules` and `trigger` are Harbor's JSON. */
export interface RetentionPolicyTable {
  id: Generated<number>;
  project_id: number;
  algorithm: string;
  rules: string;
  trigger: string;
  creation_time: string;
  update_time: string;
}

/** The counts a finished retention task recorded (the task is the `job` row). */
export interface RetentionTaskTable {
  job_id: number;
  total: number;
  retained: number;
}

/** What the built-in scanner read from one layer (0015), shared by every scan of an image holding it. */
export interface LayerInventoryTable {
  digest: string;
  /** The reading's code version, the layer's compression and the scanner's limits. */
  version: string;
  /** JSON, gzipped and base64'd from 64 KiB (`gzip:`). */
  reading: string;
  creation_time: string;
}

export interface Database {
  project: ProjectTable;
  repository: RepositoryTable;
  blob: BlobTable;
  project_blob: ProjectBlobTable;
  artifact: ArtifactTable;
  tag: TagTable;
  artifact_blob: ArtifactBlobTable;
  artifact_reference: ArtifactReferenceTable;
  upload: UploadTable;
  job: JobTable;
  job_log: JobLogTable;
  schedule: ScheduleTable;
  schedule_fire: ScheduleFireTable;
  execution: ExecutionTable;
  job_queue_status: JobQueueStatusTable;
  job_worker_pool: JobWorkerPoolTable;
  label: LabelTable;
  artifact_label: ArtifactLabelTable;
  project_metadata: ProjectMetadataTable;
  quota: QuotaTable;
  harbor_user: UserTable;
  user_group: UserGroupTable;
  user_group_member: UserGroupMemberTable;
  project_member: ProjectMemberTable;
  robot: RobotTable;
  robot_permission: RobotPermissionTable;
  audit_log: AuditLogTable;
  ui_session: UiSessionTable;
  auth_failure: AuthFailureTable;
  secret_key: SecretKeyTable;
  registry: RegistryTable;
  replication_policy: ReplicationPolicyTable;
  setting: SettingTable;
  immutable_tag_rule: ImmutableTagRuleTable;
  notification_policy: NotificationPolicyTable;
  retention_policy: RetentionPolicyTable;
  retention_task: RetentionTaskTable;
  insight_repository_day: InsightRepositoryDayTable;
  insight_user_day: InsightUserDayTable;
  insight_storage_day: InsightStorageDayTable;
  insight_vulnerability_day: InsightVulnerabilityDayTable;
  vuln_db_import: VulnDbImportTable;
  vuln_advisory: VulnAdvisoryTable;
  vuln_affected: VulnAffectedTable;
  layer_inventory: LayerInventoryTable;
  proxy_tag: ProxyTagTable;
  proxy_manifest: ProxyManifestTable;
  proxy_index_child: ProxyIndexChildTable;
  proxy_fetch: ProxyFetchTable;
  proxy_referrer_page: ProxyReferrerPageTable;
  scan_report: ScanReportTable;
  scan_vulnerability: ScanVulnerabilityTable;
  cve_allowlist: CveAllowlistTable;
  scanner_registration: ScannerRegistrationTable;
  project_scanner: ProjectScannerTable;
  p2p_preheat_instance: P2pPreheatInstanceTable;
  p2p_preheat_policy: P2pPreheatPolicyTable;
}

export type ProjectRow = Selectable<ProjectTable>;
export type RepositoryRow = Selectable<RepositoryTable>;
export type ArtifactRow = Selectable<ArtifactTable>;
export type TagRow = Selectable<TagTable>;
export type ImmutableTagRuleRow = Selectable<ImmutableTagRuleTable>;
export type NotificationPolicyRow = Selectable<NotificationPolicyTable>;
export type UploadRow = Selectable<UploadTable>;
export type NewArtifact = Insertable<ArtifactTable>;
export type JobRow = Selectable<JobTable>;
export type JobLogRow = Selectable<JobLogTable>;
export type ScheduleRow = Selectable<ScheduleTable>;
export type JobWorkerPoolRow = Selectable<JobWorkerPoolTable>;
export type ExecutionRow = Selectable<ExecutionTable>;
export type LabelRow = Selectable<LabelTable>;
export type UserRow = Selectable<UserTable>;
export type UserGroupRow = Selectable<UserGroupTable>;
export type ProjectMemberRow = Selectable<ProjectMemberTable>;
export type RobotRow = Selectable<RobotTable>;
export type RobotPermissionRow = Selectable<RobotPermissionTable>;
export type AuditLogRow = Selectable<AuditLogTable>;
export type NewAuditLog = Insertable<AuditLogTable>;
export type RegistryRow = Selectable<RegistryTable>;
export type ScannerRegistrationRow = Selectable<ScannerRegistrationTable>;
export type P2pPreheatInstanceRow = Selectable<P2pPreheatInstanceTable>;
export type P2pPreheatPolicyRow = Selectable<P2pPreheatPolicyTable>;
export type ProxyManifestRow = Selectable<ProxyManifestTable>;
export type ProxyTagRow = Selectable<ProxyTagTable>;
export type ScanReportRow = Selectable<ScanReportTable>;
/** A report row without its document (megabytes for an image with thousands of findings). */
export type ScanReportHead = Omit<ScanReportRow, 'report'>;
export type ScanVulnerabilityRow = Selectable<ScanVulnerabilityTable>;
export type CveAllowlistRow = Selectable<CveAllowlistTable>;
export type ReplicationPolicyRow = Selectable<ReplicationPolicyTable>;
export type RetentionPolicyRow = Selectable<RetentionPolicyTable>;
