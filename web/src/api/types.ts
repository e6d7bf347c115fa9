import type { ScanOverview } from './scans';
import type { CveAllowlist } from './security';

/** The parts of Harbor's swagger shapes the UI reads (shared/harbor-api/swagger.yaml). */

export interface SystemInfo {
  auth_mode?: string;
  primary_auth_mode?: boolean;
  self_registration?: boolean;
  harbor_version?: string;
  registry_url?: string;
  external_url?: string;
  project_creation_restriction?: string;
  oidc_provider_name?: string;
  has_ca_root?: boolean;
}

export interface OidcUserMeta {
  id?: number;
  user_id?: number;
  secret?: string;
  subiss?: string;
}

export interface User {
  user_id: number;
  username: string;
  email?: string;
  realname?: string;
  comment?: string;
  sysadmin_flag?: boolean;
  admin_role_in_auth?: boolean;
  creation_time?: string;
  update_time?: string;
  oidc_user_meta?: OidcUserMeta;
}

export interface Permission {
  resource: string;
  action: string;
}

export interface ProjectMetadata {
  public?: string;
  auto_scan?: string;
  prevent_vul?: string;
  severity?: string;
  enable_content_trust?: string;
  reuse_sys_cve_allowlist?: string;
  /** The id of the project's tag retention policy, once it has one. */
  retention_id?: string;
  /** Proxy-cache projects (docs/proxy-cache.md): Harbor's keys and Berth's own check and stale windows. */
  proxy_speed_kb?: string;
  max_upstream_conn?: string;
  proxy_cache_local_on_not_found?: string;
  proxy_cache_check_seconds?: string;
  proxy_cache_stale_minutes?: string;
  proxy_cache_filter_pattern?: string;
  proxy_cache_filter_kind?: string;
  proxy_referrer_api?: string;
}

export interface Project {
  project_id: number;
  name: string;
  owner_name?: string;
  repo_count?: number;
  creation_time?: string;
  update_time?: string;
  metadata?: ProjectMetadata;
  current_user_role_id?: number;
  current_user_role_ids?: number[];
  registry_id?: number | null;
  cve_allowlist?: CveAllowlist;
}

export interface QuotaResources {
  storage?: number;
}

export interface ProjectSummary {
  repo_count?: number;
  project_admin_count?: number;
  maintainer_count?: number;
  developer_count?: number;
  guest_count?: number;
  limited_guest_count?: number;
  quota?: { hard?: QuotaResources; used?: QuotaResources };
  /** The upstream of a proxy-cache project. */
  registry?: { id: number; name: string; url: string; type: string; status?: string };
}

export interface Quota {
  id: number;
  ref?: { id?: number; name?: string; owner_name?: string };
  hard?: QuotaResources;
  used?: QuotaResources;
}

export interface Repository {
  id: number;
  project_id: number;
  name: string;
  description?: string;
  artifact_count?: number;
  pull_count?: number;
  creation_time?: string;
  update_time?: string;
}

export interface Label {
  id: number;
  name: string;
  description?: string;
  color?: string;
  scope?: 'g' | 'p';
  project_id?: number;
  creation_time?: string;
}

export interface Tag {
  id: number;
  name: string;
  artifact_id?: number;
  repository_id?: number;
  push_time?: string;
  pull_time?: string;
  immutable?: boolean;
}

export interface Platform {
  os?: string;
  architecture?: string;
  variant?: string;
  'os.version'?: string;
}

export interface Reference {
  parent_id?: number;
  child_id?: number;
  child_digest: string;
  platform?: Platform;
  urls?: string[];
  annotations?: Record<string, string>;
}

export interface Accessory {
  id: number;
  artifact_id?: number;
  subject_artifact_id?: number;
  subject_artifact_digest?: string;
  size?: number;
  digest: string;
  type?: string;
  creation_time?: string;
  icon?: string;
}

export interface Artifact {
  id: number;
  type?: string;
  media_type?: string;
  manifest_media_type?: string;
  artifact_type?: string;
  project_id?: number;
  repository_id?: number;
  repository_name?: string;
  digest: string;
  size?: number;
  icon?: string;
  push_time?: string;
  pull_time?: string;
  extra_attrs?: Record<string, unknown>;
  annotations?: Record<string, string>;
  references?: Reference[];
  tags?: Tag[] | null;
  labels?: Label[] | null;
  accessories?: Accessory[] | null;
  addition_links?: Record<string, { href?: string; absolute?: boolean }>;
  /** By report type (`with_scan_overview=true`). */
  scan_overview?: Record<string, ScanOverview>;
}

export interface BuildHistoryEntry {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
  author?: string;
}

export interface Member {
  id: number;
  project_id: number;
  entity_name: string;
  role_name?: string;
  role_id: number;
  entity_id?: number;
  entity_type: 'u' | 'g';
}

export interface RobotPermission {
  kind: 'project' | 'system';
  namespace: string;
  access: { resource: string; action: string; effect?: string }[];
}

export interface Robot {
  id: number;
  name: string;
  description?: string;
  secret?: string;
  level?: 'system' | 'project';
  duration?: number;
  disable?: boolean;
  expires_at?: number;
  creation_time?: string;
  update_time?: string;
  permissions?: RobotPermission[];
  editable?: boolean;
}

export interface RobotCreated {
  id: number;
  name: string;
  secret: string;
  creation_time?: string;
  expires_at?: number;
}

export interface AuditLog {
  id: number;
  username?: string;
  resource?: string;
  resource_type?: string;
  operation?: string;
  op_time?: string;
}

export interface UserGroup {
  id: number;
  group_name: string;
  group_type: number;
  ldap_group_dn?: string;
}

export interface RegistryCredential {
  type?: string;
  access_key?: string;
  access_secret?: string;
}

export interface Registry {
  id: number;
  name: string;
  url: string;
  type: string;
  description?: string;
  insecure?: boolean;
  status?: string;
  credential?: RegistryCredential;
  creation_time?: string;
  update_time?: string;
}

export interface ReplicationFilter {
  type: 'name' | 'tag' | 'label' | 'resource';
  value: unknown;
  decoration?: string;
}

export interface ReplicationTrigger {
  type: 'manual' | 'scheduled' | 'event_based';
  trigger_settings?: { cron?: string };
}

export interface ReplicationPolicy {
  id: number;
  name: string;
  description?: string;
  src_registry?: Registry | null;
  dest_registry?: Registry | null;
  dest_namespace?: string;
  dest_namespace_replace_count?: number;
  filters?: ReplicationFilter[] | null;
  trigger?: ReplicationTrigger | null;
  enabled?: boolean;
  override?: boolean;
  replicate_deletion?: boolean;
  speed?: number;
  creation_time?: string;
  update_time?: string;
}

export interface ReplicationExecution {
  id: number;
  policy_id: number;
  status: string;
  status_text?: string;
  trigger?: string;
  total?: number;
  failed?: number;
  succeed?: number;
  in_progress?: number;
  stopped?: number;
  start_time?: string;
  end_time?: string;
}

export interface ReplicationTask {
  id: number;
  execution_id: number;
  resource_type?: string;
  src_resource?: string;
  dst_resource?: string;
  operation?: string;
  status: string;
  start_time?: string;
  end_time?: string;
}

export type Configurations = Record<string, { value: unknown; editable?: boolean } | undefined>;

/** Harbor's project roles (role_id). */
export const ROLES: { id: number; name: string }[] = [
  { id: 1, name: 'Project Admin' },
  { id: 4, name: 'Maintainer' },
  { id: 2, name: 'Developer' },
  { id: 3, name: 'Guest' },
  { id: 5, name: 'Limited Guest' },
];

export function roleName(id: number | undefined): string {
  return ROLES.find((r) => r.id === id)?.name ?? '—';
}
