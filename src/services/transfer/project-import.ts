import type { MetaStore } from '../../db/store.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { parseManifest } from '../../oci/manifest.js';
import type { StorageDriver } from '../../storage/driver.js';
import { layout } from '../../storage/layout.js';
import type { RobotInput, RobotService } from '../access/robots.js';
import type { RequestContext } from '../context.js';
import type { RetentionPolicies } from '../policies/retention/retention-policies.js';
import type { RetentionPolicyInput } from '../policies/retention/policy.js';
import type { QuotaService } from '../policies/quota/quota-service.js';
import { assertProjectName } from '../projects/project-service.js';
import type { ManifestService } from '../registry/manifest-service.js';
import type { UploadSessions } from '../registry/upload-sessions.js';
import type { ArchiveReader } from './archive.js';
import { blobPath, type ExportManifest } from './export-format.js';
import { ProgressCounter, type ProgressSink } from './progress.js';

type ImportStore = Pick<
  MetaStore,
  | 'projects'
  | 'projectCatalog'
  | 'projectTransfer'
  | 'users'
  | 'userGroups'
  | 'blobs'
  | 'labels'
  | 'audit'
  | 'scanners'
  | 'transaction'
>;

export interface ImportResult {
  project: string;
  projectId: number;
  /** New secrets of the project's robots: shown once, kept nowhere. */
  robots: { name: string; secret: string }[];
  /** What was left out (a member unknown here, a scanner not registered here). */
  warnings: string[];
  /** Blobs this instance already held (linked, not written). */
  deduplicated: number;
}

/**
 * Creates a project from a verified export (archive-verify.ts): the project, its settings and policies in
 * one transaction, then the blobs (linked when this instance holds them already, else streamed in through
 * the upload path with its digest check and quota), then each artifact through ManifestService (children
 * and subjects before the manifests that name them) with its tags and labels, and an audit row.
 */
export class ProjectImporter {
  constructor(
    private readonly d: {
      store: ImportStore;
      storage: StorageDriver;
      clock: Clock;
      uploads: UploadSessions;
      manifests: ManifestService;
      quota: QuotaService;
      robots: RobotService;
      retention: RetentionPolicies;
    },
  ) {}

  async import(
    ctx: RequestContext,
    reader: ArchiveReader,
    m: ExportManifest,
    as: string | undefined,
    progress: ProgressSink,
  ): Promise<ImportResult> {
    const name = as ?? m.project.name;
    assertProjectName(name);
    if (await this.d.store.projects.findByName(name))
      throw new AppError(
        'CONFLICT',
        `project ${name} already exists on this instance: import it under another name with --as <name>`,
      );
    const total = m.blobs.reduce((n, b) => n + b.size, 0);
    if (m.project.storageLimit !== -1 && total > m.project.storageLimit)
      throw new AppError(
        'PRECONDITION',
        `the export holds ${total} bytes of blobs, more than the project's storage limit of ${m.project.storageLimit} bytes`,
      );
    const robotInputs = m.robots.map((r) => robotInput(name, r));
    for (const r of robotInputs) this.d.robots.validate(r);
    const warnings: string[] = [];
    const project = await this.createProject(name, m, warnings);
    let robots: ImportResult['robots'] = [];
    let deduplicated = 0;
    try {
      robots = await this.createRobots(robotInputs);
      deduplicated = await this.importBlobs(ctx, reader, m, name, project.id, progress);
      await this.importArtifacts(ctx, reader, m, name);
    } catch (err) {
      const incomplete = `project ${name} was created but its import failed, so it is incomplete (delete it and import again)`;
      if (err instanceof AppError) throw new AppError(err.code, `${incomplete}: ${err.message}`);
      throw new Error(`${incomplete}: ${(err as Error).message}`, { cause: err });
    }
    await this.d.store.audit.insertMany([
      {
        project_id: project.id,
        operation: 'import',
        resource_type: 'project',
        resource: name,
        username: 'berth import',
        client_ip: '',
        user_agent: `berth import of ${m.project.name} (exported ${m.exportedAt})`,
        success: 1,
        op_time: this.d.clock.now().toISOString(),
      },
    ]);
    return { project: name, projectId: project.id, robots, warnings, deduplicated };
  }

  private async createProject(name: string, m: ExportManifest, warnings: string[]) {
    const now = this.d.clock.now().toISOString();
    const s = this.d.store;
    const owner = m.project.owner ? await s.users.findByName(m.project.owner) : undefined;
    const scanner = m.scanner ? await s.projectTransfer.scannerUuid(m.scanner) : undefined;
    if (m.scanner && !scanner)
      warnings.push(`scanner ${m.scanner} is not registered here: the default one applies`);
    return s.transaction(async (tx) => {
      const row = await tx.projectCatalog.create({
        name,
        public: m.project.public,
        ownerId: owner?.id ?? null,
        now,
      });
      if (!row) throw new AppError('CONFLICT', `project ${name} already exists on this instance`);
      await tx.projectCatalog.putMetadata(row.id, m.project.metadata, now);
      await tx.projectCatalog.setQuota(row.id, m.project.storageLimit, now);
      for (const member of m.members) {
        const id =
          member.kind === 'user'
            ? (await tx.users.findByName(member.name))?.id
            : (await tx.userGroups.findByKey(member.groupType ?? 1, member.ldapGroupDn || member.name))?.id;
        if (id === undefined) {
          warnings.push(`member ${member.kind} ${member.name} does not exist here: left out`);
          continue;
        }
        await tx.members.create(row.id, member.kind === 'user' ? 'u' : 'g', id, member.role, now);
      }
      for (const l of m.labels) {
        if (l.scope === 'g') {
          if (!(await tx.projectTransfer.globalLabel(l.name)))
            await tx.labels.create({ ...l, scope: 'g', projectId: 0 }, now);
          continue;
        }
        await tx.labels.create({ ...l, scope: 'p', projectId: row.id }, now);
      }
      for (const r of m.immutabilityRules) await tx.immutableRules.create(row.id, r, now);
      for (const w of m.webhooks)
        await tx.notificationPolicies.create(
          row.id,
          {
            name: w.name,
            description: w.description,
            targets: JSON.stringify(w.targets),
            eventTypes: JSON.stringify(w.eventTypes),
            enabled: w.enabled,
          },
          'berth import',
          now,
        );
      if (m.cveAllowlist)
        await tx.cveAllowlists.put(
          row.id,
          { expiresAt: m.cveAllowlist.expiresAt, items: JSON.stringify(m.cveAllowlist.items) },
          now,
        );
      if (scanner) await tx.scanners.setProjectScanner(row.id, scanner);
      if (m.retention)
        await this.d.retention.createIn(tx, {
          ...(m.retention as Omit<RetentionPolicyInput, 'scope'>),
          scope: { level: 'project', ref: row.id },
        });
      return row;
    });
  }

  /** Project robots with the exported grants on the new project, each with a new secret. */
  private async createRobots(inputs: RobotInput[]): Promise<ImportResult['robots']> {
    const admin = await this.d.store.users.findByName('admin');
    const creator = {
      kind: 'user' as const,
      userId: admin?.id ?? 0,
      username: admin?.username ?? 'admin',
      sysadmin: true,
      groupIds: [],
    };
    const out: ImportResult['robots'] = [];
    for (const input of inputs) {
      const created = await this.d.robots.create(input, creator);
      out.push({ name: created.name, secret: created.secret });
    }
    return out;
  }

  /** Every blob but the manifests (ManifestService writes those); returns how many were linked, not written. */
  private async importBlobs(
    ctx: RequestContext,
    reader: ArchiveReader,
    m: ExportManifest,
    name: string,
    projectId: number,
    progress: ProgressSink,
  ): Promise<number> {
    const manifests = new Set(m.repositories.flatMap((r) => r.artifacts.map((a) => a.digest)));
    const blobs = m.blobs.filter((b) => !manifests.has(b.digest));
    // Any repository of the project names the blob in quota messages and events.
    const repository = `${name}/${m.repositories[0]?.name ?? ''}`;
    const counter = new ProgressCounter('import', blobs, progress);
    let deduplicated = 0;
    for (const blob of blobs) {
      if (await this.linkHeld(ctx, projectId, name, repository, blob)) {
        deduplicated++;
        counter.step(blob.digest, blob.size, true);
        continue;
      }
      await this.d.uploads.putMonolithic(
        ctx,
        repository,
        blob.digest,
        await reader.read(blobPath(blob.digest)),
        blob.size,
      );
      counter.step(blob.digest, blob.size);
    }
    return deduplicated;
  }

  /** Links a blob this instance holds already to the project; false when it must be written. */
  private async linkHeld(
    ctx: RequestContext,
    projectId: number,
    name: string,
    repository: string,
    blob: { digest: string; size: number },
  ): Promise<boolean> {
    if (!(await this.d.store.blobs.exists(blob.digest))) return false;
    const stored = await this.d.storage.stat(layout.blob(blob.digest)).catch(() => undefined);
    if (stored?.size !== blob.size) return false;
    return this.d.store
      .transaction((tx) => this.d.quota.link(ctx, tx, { id: projectId, name }, repository, [blob]))
      .then(
        () => true,
        (err: unknown) => {
          // Garbage collection is deleting it: write it instead.
          if (err instanceof AppError && err.code === 'UNAVAILABLE') return false;
          throw err;
        },
      );
  }

  private async importArtifacts(ctx: RequestContext, reader: ArchiveReader, m: ExportManifest, name: string) {
    const now = this.d.clock.now().toISOString();
    const labelIds = new Map<string, number>();
    for (const repo of m.repositories) {
      const repository = `${name}/${repo.name}`;
      const byDigest = new Map(repo.artifacts.map((a) => [a.digest, a]));
      const bytes = new Map<string, Buffer>();
      for (const a of repo.artifacts) bytes.set(a.digest, await readAll(reader, blobPath(a.digest)));
      const done = new Set<string>();
      const push = async (digest: string, path: string[]): Promise<void> => {
        const a = byDigest.get(digest);
        if (!a || done.has(digest) || path.includes(digest)) return;
        const body = bytes.get(digest)!;
        const parsed = parseManifest(body, a.mediaType);
        // What it names first: an index's children, a referrer's subject.
        for (const child of parsed.manifests) await push(child.digest, [...path, digest]);
        if (parsed.subject) await push(parsed.subject.digest, [...path, digest]);
        done.add(digest);
        const pushed = await this.d.manifests.put(ctx, repository, digest, body, a.mediaType);
        for (const tag of a.tags) await this.d.manifests.put(ctx, repository, tag, body, a.mediaType);
        for (const l of a.labels) {
          const id = await this.labelId(l, name, labelIds);
          if (id !== undefined) await this.d.store.labels.attach(pushed.artifactId, id, now);
        }
      };
      for (const a of repo.artifacts) await push(a.digest, []);
    }
  }

  private async labelId(l: { name: string; scope: 'g' | 'p' }, project: string, cache: Map<string, number>) {
    const key = `${l.scope}:${l.name}`;
    if (!cache.has(key)) {
      const row =
        l.scope === 'g'
          ? await this.d.store.projectTransfer.globalLabel(l.name)
          : await this.d.store.projectTransfer.projectLabel(project, l.name);
      if (row) cache.set(key, row.id);
    }
    return cache.get(key);
  }
}

function robotInput(project: string, r: ExportManifest['robots'][number]): RobotInput {
  return {
    name: r.name,
    description: r.description,
    level: 'project',
    duration: r.duration,
    disable: r.disabled,
    permissions: [{ kind: 'project', namespace: project, access: r.permissions }],
  };
}

async function readAll(reader: ArchiveReader, path: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of await reader.read(path)) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}
