import { z } from 'zod';

/** Response bodies as Harbor's swagger defines them (documentation for swagger.json; the contract test checks the real thing). */
const time = z.string().meta({ format: 'date-time' });
const metadata = z.record(z.string(), z.string());

export const projectModel = z.object({
  project_id: z.number().int(),
  owner_id: z.number().int(),
  name: z.string(),
  creation_time: time,
  update_time: time,
  deleted: z.boolean(),
  owner_name: z.string(),
  togglable: z.boolean(),
  current_user_role_id: z.number().int(),
  current_user_role_ids: z.array(z.number().int()),
  repo_count: z.number().int(),
  registry_id: z.number().int().optional(),
  metadata,
  cve_allowlist: z.object({
    id: z.number().int(),
    project_id: z.number().int(),
    expires_at: z.number().int().optional(),
    items: z.array(z.object({ cve_id: z.string() })),
    creation_time: time,
    update_time: time,
  }),
});

export const resourceList = z.record(z.string(), z.number().int());

export const projectSummaryModel = z.object({
  repo_count: z.number().int(),
  project_admin_count: z.number().int(),
  maintainer_count: z.number().int(),
  developer_count: z.number().int(),
  guest_count: z.number().int(),
  limited_guest_count: z.number().int(),
  quota: z.object({ hard: resourceList, used: resourceList }),
  /** A proxy-cache project's upstream registry endpoint. */
  registry: z.record(z.string(), z.unknown()).optional(),
});

export const repositoryModel = z.object({
  id: z.number().int(),
  project_id: z.number().int(),
  name: z.string(),
  description: z.string(),
  artifact_count: z.number().int(),
  pull_count: z.number().int(),
  creation_time: time,
  update_time: time,
});

export const tagModel = z.object({
  id: z.number().int(),
  repository_id: z.number().int(),
  artifact_id: z.number().int(),
  name: z.string(),
  push_time: time,
  pull_time: time,
  immutable: z.boolean(),
});

export const labelModel = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string(),
  color: z.string(),
  scope: z.string(),
  project_id: z.number().int(),
  creation_time: time,
  update_time: time,
});

export const accessoryModel = z.object({
  id: z.number().int(),
  artifact_id: z.number().int(),
  subject_artifact_id: z.number().int(),
  subject_artifact_digest: z.string(),
  subject_artifact_repo: z.string(),
  size: z.number().int(),
  digest: z.string(),
  type: z.string(),
  icon: z.string(),
  creation_time: time,
});

export const artifactModel = z.object({
  id: z.number().int(),
  type: z.string(),
  media_type: z.string(),
  manifest_media_type: z.string(),
  artifact_type: z.string(),
  project_id: z.number().int(),
  repository_id: z.number().int(),
  repository_name: z.string(),
  digest: z.string(),
  size: z.number().int(),
  icon: z.string(),
  push_time: time,
  pull_time: time,
  extra_attrs: z.record(z.string(), z.unknown()),
  annotations: z.record(z.string(), z.string()),
  references: z.array(
    z.object({
      parent_id: z.number().int(),
      child_id: z.number().int(),
      child_digest: z.string(),
      platform: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
  tags: z.array(tagModel).nullable(),
  labels: z.array(labelModel).nullable(),
  addition_links: z.record(z.string(), z.object({ href: z.string(), absolute: z.boolean() })),
  accessories: z.array(accessoryModel).nullable().optional(),
});

export const quotaModel = z.object({
  id: z.number().int(),
  ref: z.object({ id: z.number().int(), name: z.string(), owner_name: z.string() }),
  hard: resourceList,
  used: resourceList,
  creation_time: time,
  update_time: time,
});
