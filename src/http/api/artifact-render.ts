import type { ArtifactRow, LabelRow } from '../../db/tables.js';
import { additionNames } from '../../services/artifacts/additions.js';
import { iconDigestOf } from '../../services/artifacts/artifact-icons.js';
import { accessoryTypeOf, artifactTypeOf } from '../../services/artifacts/artifact-type.js';
import type { ArtifactView, TagView } from '../../services/artifacts/artifact-service.js';
import { mediaTypes } from '../../oci/media-types.js';

/** Harbor answers a never-pulled time as Go's zero time. */
export const zeroTime = '0001-01-01T00:00:00.000Z';

/** Harbor's links encode the repository name twice. */
export function repoPath(projectName: string, repositoryName: string): string {
  const rest = repositoryName.slice(projectName.length + 1);
  return `/api/v2.0/projects/${projectName}/repositories/${encodeURIComponent(encodeURIComponent(rest))}`;
}

export function renderTag(t: TagView) {
  return {
    id: t.id,
    repository_id: t.repository_id,
    artifact_id: t.artifact_id,
    name: t.name,
    push_time: t.push_time,
    pull_time: t.pull_time ?? zeroTime,
    immutable: t.immutable,
  };
}

export function renderLabel(l: LabelRow) {
  return {
    id: l.id,
    name: l.name,
    description: l.description,
    color: l.color,
    scope: l.scope,
    project_id: l.project_id,
    creation_time: l.creation_time,
    update_time: l.update_time,
  };
}

export function renderAccessory(acc: ArtifactRow, subject: ArtifactRow, repositoryName: string) {
  return {
    id: acc.id,
    artifact_id: acc.id,
    subject_artifact_id: subject.id,
    subject_artifact_digest: subject.digest,
    subject_artifact_repo: repositoryName,
    size: Number(acc.size),
    digest: acc.digest,
    type: accessoryTypeOf(acc.artifact_type),
    icon: '',
    creation_time: acc.push_time,
  };
}

function isIndex(row: ArtifactRow): boolean {
  return row.media_type === mediaTypes.ociIndex || row.media_type === mediaTypes.dockerManifestList;
}

export function renderArtifact(
  v: ArtifactView,
  where: { projectId: number; projectName: string; repositoryName: string },
  opts: {
    withTag: boolean;
    withLabel: boolean;
    withAccessory: boolean;
    withScanOverview: boolean;
    withSbomOverview: boolean;
  },
) {
  const { row } = v;
  const base = repoPath(where.projectName, where.repositoryName);
  const links: Record<string, { href: string; absolute: boolean }> = Object.fromEntries(
    additionNames(row).map((name) => [
      name,
      { href: `${base}/artifacts/${row.digest}/additions/${name}`, absolute: false },
    ]),
  );
  const type = artifactTypeOf(row.media_type, row.artifact_type);
  // Harbor links an image to its SBOM accessory's document (additions/sbom of the accessory's digest).
  const sbomDigest = v.sbomOverview?.['sbom_digest'];
  if (typeof sbomDigest === 'string')
    links['sboms'] = { href: `${base}/artifacts/${sbomDigest}/additions/sbom`, absolute: false };
  return {
    id: row.id,
    type,
    media_type: isIndex(row) ? row.media_type : (row.artifact_type ?? row.media_type),
    manifest_media_type: row.media_type,
    artifact_type: row.artifact_type ?? row.media_type,
    project_id: where.projectId,
    repository_id: row.repository_id,
    repository_name: where.repositoryName,
    digest: row.digest,
    size: Number(row.size),
    icon: iconDigestOf(type),
    push_time: row.push_time,
    pull_time: row.pull_time ?? zeroTime,
    extra_attrs: v.extraAttrs,
    annotations: row.annotations ? (JSON.parse(row.annotations) as Record<string, string>) : {},
    references: v.references.map((r) => ({
      parent_id: r.parent_id,
      child_id: r.child_id,
      child_digest: r.child_digest,
      ...(r.platform ? { platform: JSON.parse(r.platform) as Record<string, unknown> } : {}),
    })),
    ...(opts.withTag ? { tags: v.tags.map(renderTag) } : {}),
    ...(opts.withLabel ? { labels: v.labels.map(renderLabel) } : {}),
    addition_links: links,
    ...(opts.withAccessory
      ? { accessories: v.accessories.map((a) => renderAccessory(a, row, where.repositoryName)) }
      : {}),
    ...(opts.withScanOverview && v.scanOverview ? { scan_overview: v.scanOverview } : {}),
    ...(opts.withSbomOverview && v.sbomOverview ? { sbom_overview: v.sbomOverview } : {}),
  };
}
