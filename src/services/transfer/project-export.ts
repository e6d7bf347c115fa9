import type { MetaStore } from '../../db/store.js';
import type { LabelRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { parseManifest } from '../../oci/manifest.js';
import type { StorageDriver } from '../../storage/driver.js';
import { layout } from '../../storage/layout.js';
import { berthVersion } from '../../version.js';
import type { ArchiveWriter } from './archive.js';
import {
  blobsLink,
  exportFormat,
  exportVersion,
  manifestPath,
  repositoryDir,
  type ExportManifest,
} from './export-format.js';
import { ProgressCounter, type ProgressSink } from './progress.js';

type ExportStore = Pick<
  MetaStore,
  | 'projects'
  | 'projectCatalog'
  | 'projectTransfer'
  | 'labels'
  | 'members'
  | 'userGroups'
  | 'users'
  | 'robots'
  | 'immutableRules'
  | 'retention'
  | 'notificationPolicies'
  | 'cveAllowlists'
  | 'scanners'
>;

/**
 * Writes a project to an archive (export-format.ts): metadata and policies first read, then each
 * repository's artifacts and tags (one statement each, a consistent snapshot per repository), then every
 * blob streamed from storage to the archive, the OCI layouts, and the export manifest last. Only reads
 * the database, so it may run beside a serving Berth. Blobs the archive already holds whole (an export
 * that was interrupted) are not written again.
 */
export class ProjectExporter {
  constructor(private readonly d: { store: ExportStore; storage: StorageDriver; clock: Clock }) {}

  async export(projectName: string, writer: ArchiveWriter, progress: ProgressSink): Promise<ExportManifest> {
    const manifest = await this.describe(projectName);
    const counter = new ProgressCounter('export', manifest.blobs, progress);
    for (const blob of manifest.blobs) {
      if (await writer.has(blob.digest, blob.size)) {
        counter.step(blob.digest, blob.size, true);
        continue;
      }
      await writer.writeBlob(blob.digest, blob.size, await this.d.storage.read(layout.blob(blob.digest)));
      counter.step(blob.digest, blob.size);
    }
    for (const repo of manifest.repositories) {
      const dir = repositoryDir(repo.name);
      await writer.writeFile(`${dir}/oci-layout`, Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
      await writer.writeFile(`${dir}/index.json`, Buffer.from(JSON.stringify(ociIndex(repo, this.children))));
      await writer.symlink(`${dir}/blobs`, blobsLink(repo.name));
    }
    await writer.writeFile(manifestPath, Buffer.from(JSON.stringify(manifest, null, 2)));
    await writer.close();
    return manifest;
  }

  /** Digests that are a child of an index in their repository: left out of index.json (the index has them). */
  private children = new Set<string>();

  /** Everything but the bytes: the export manifest. */
  private async describe(projectName: string): Promise<ExportManifest> {
    const s = this.d.store;
    const project = await s.projects.findByName(projectName);
    if (!project) throw new AppError('NOT_FOUND', `project ${projectName} not found`);
    const metadata = { ...((await s.projectCatalog.metadata([project.id])).get(project.id) ?? {}) };
    delete metadata.retention_id;
    delete metadata.public;
    const quota = (await s.projectCatalog.quotaRows([project.id])).get(project.id);
    const owner = project.owner_id === null ? undefined : await s.users.findById(project.owner_id);

    const members: ExportManifest['members'] = [];
    for (const m of (await s.members.list(project.id, { offset: 0, limit: Number.MAX_SAFE_INTEGER })).rows) {
      if (m.entity_type === 'u') {
        members.push({ kind: 'user', name: m.entity_name, role: m.role_id });
        continue;
      }
      const group = await s.userGroups.findById(m.entity_id);
      members.push({
        kind: 'group',
        name: m.entity_name,
        role: m.role_id,
        ...(group ? { groupType: group.group_type, ldapGroupDn: group.ldap_group_dn } : {}),
      });
    }

    const robotRows = await s.projectTransfer.projectRobots(project.id);
    const permissions = await s.robots.permissionsOf(robotRows.map((r) => r.id));
    const robots = robotRows.map((r) => ({
      name: r.name.startsWith(`${project.name}+`) ? r.name.slice(project.name.length + 1) : r.name,
      description: r.description,
      duration: r.duration,
      disabled: r.disabled === 1,
      permissions: permissions
        .filter((p) => p.robot_id === r.id)
        .map((p) => ({ resource: p.resource, action: p.action })),
    }));

    const labels = new Map<number, LabelRow>();
    for (const l of await s.projectTransfer.projectLabels(project.id)) labels.set(l.id, l);

    const blobs = new Map<string, number>();
    this.children = new Set();
    const repositories: ExportManifest['repositories'] = [];
    for (const repo of await s.projectTransfer.repositories(project.id)) {
      const name = repo.name.slice(project.name.length + 1);
      const rows = await s.projectTransfer.artifacts(repo.id);
      const byId = new Map<number, ExportManifest['repositories'][number]['artifacts'][number]>();
      for (const row of rows) {
        const a = byId.get(row.id) ?? {
          digest: row.digest,
          mediaType: row.media_type,
          size: row.manifest_size,
          tags: [],
          labels: [],
        };
        if (row.tag !== null) a.tags.push(row.tag);
        byId.set(row.id, a);
      }
      for (const [id, attached] of await s.labels.ofArtifacts([...byId.keys()])) {
        for (const l of attached) {
          labels.set(l.id, l);
          byId.get(id)!.labels.push({ name: l.name, scope: l.scope });
        }
      }
      for (const a of byId.values()) {
        // The manifest names the blobs it needs; its own bytes are a blob of the archive too.
        const bytes = await this.d.storage.getContent(layout.blob(a.digest));
        const parsed = parseManifest(bytes, a.mediaType);
        blobs.set(a.digest, bytes.length);
        for (const b of parsed.blobs) blobs.set(b.digest, b.size);
        for (const child of parsed.manifests) this.children.add(`${name}@${child.digest}`);
      }
      repositories.push({
        name,
        description: repo.description,
        artifacts: [...byId.values()],
      });
    }

    const retention = await s.retention.findPolicyOfProject(project.id);
    const allowlist = await s.cveAllowlists.get(project.id);
    const scannerUuid = await s.scanners.projectScanner(project.id);
    const scanner = scannerUuid ? await s.scanners.find(scannerUuid) : undefined;
    return {
      format: exportFormat,
      version: exportVersion,
      berthVersion,
      exportedAt: this.d.clock.now().toISOString(),
      project: {
        name: project.name,
        public: project.public === 1,
        owner: owner?.username ?? null,
        metadata,
        storageLimit: quota?.hard_storage ?? -1,
      },
      members,
      robots,
      labels: [...labels.values()].map((l) => ({
        name: l.name,
        description: l.description,
        color: l.color,
        scope: l.scope,
      })),
      immutabilityRules: (await s.immutableRules.ofProject(project.id)).map((r) => ({
        priority: r.priority,
        disabled: r.disabled === 1,
        action: r.action,
        template: r.template,
        scopeSelectors: r.scope_selectors,
        tagSelectors: r.tag_selectors,
      })),
      retention: retention
        ? {
            algorithm: retention.algorithm,
            rules: JSON.parse(retention.rules) as unknown,
            trigger: JSON.parse(retention.trigger) as unknown,
          }
        : null,
      webhooks: (await s.notificationPolicies.ofProject(project.id)).map((w) => ({
        name: w.name,
        description: w.description,
        targets: (JSON.parse(w.targets) as Record<string, unknown>[]).map(
          ({ auth_header: _secret, ...t }) => t,
        ),
        eventTypes: JSON.parse(w.event_types) as unknown,
        enabled: w.enabled === 1,
      })),
      cveAllowlist: allowlist
        ? { expiresAt: allowlist.expires_at, items: JSON.parse(allowlist.items) as unknown }
        : null,
      scanner: scanner?.name ?? null,
      repositories,
      blobs: [...blobs].map(([digest, size]) => ({ digest, size })),
    };
  }
}

/** A repository's index.json: each artifact no index of the repository holds, once per tag (or untagged). */
function ociIndex(repo: ExportManifest['repositories'][number], children: ReadonlySet<string>) {
  const manifests: object[] = [];
  for (const a of repo.artifacts) {
    const base = { mediaType: a.mediaType, digest: a.digest, size: a.size };
    if (a.tags.length === 0) {
      if (!children.has(`${repo.name}@${a.digest}`)) manifests.push(base);
      continue;
    }
    for (const tag of a.tags)
      manifests.push({ ...base, annotations: { 'org.opencontainers.image.ref.name': tag } });
  }
  return { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests };
}
