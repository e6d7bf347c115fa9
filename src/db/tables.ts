import type { Generated, Insertable, Selectable } from 'kysely';

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
}

export type ProjectRow = Selectable<ProjectTable>;
export type RepositoryRow = Selectable<RepositoryTable>;
export type ArtifactRow = Selectable<ArtifactTable>;
export type TagRow = Selectable<TagTable>;
export type UploadRow = Selectable<UploadTable>;
export type NewArtifact = Insertable<ArtifactTable>;
