import type { ProjectListRow, ProjectScope } from '../../db/repos/project-catalog.js';
import type { MetaStore } from '../../db/store.js';
import type { ProjectRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { ListQuery, Page } from '../../lib/query.js';
import type { AccessControl } from '../access/access-control.js';
import type { ProjectRole } from '../access/rbac.js';
import type { Subject } from '../access/subject.js';
import type { RequestContext } from '../context.js';
import { assertStorageLimit } from '../policies/quota/storage-limit.js';
import type { RetentionPolicies } from '../policies/retention/retention-policies.js';
import type { RegistryEndpoints } from '../replication/registry-endpoints.js';
import type { SettingsService } from '../settings/settings.js';
import type { QuotaService } from '../policies/quota/quota-service.js';
import { checkMetadata } from './project-metadata.js';

export type { ProjectScope };

/** Harbor's project name rule. */
const nameRule = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
export const maxProjectNameLength = 255;

export interface ProjectView {
  row: ProjectRow;
  repoCount: number;
  metadata: Record<string, string>;
  /** The owner's username; empty when the owner is gone. */
  ownerName: string;
}

export interface NewProject {
  name: string;
  public?: boolean | null | undefined;
  metadata?: Record<string, string | null | undefined> | undefined;
  storageLimit?: number | null | undefined;
  /** A registry endpoint: the project is a proxy cache of it (docs/proxy-cache.md). */
  registryId?: number | undefined;
}

export interface ProjectSummary {
  repoCount: number;
  hardStorage: number;
  usedStorage: number;
  /** Members by role. */
  members: Record<ProjectRole, number>;
}

export interface ProjectQuota {
  view: ProjectView;
  hard: number;
  used: number;
  creationTime?: string | undefined;
  updateTime?: string | undefined;
}

export function assertProjectName(name: string): void {
  if (name.length < 1 || name.length > maxProjectNameLength)
    throw new AppError('BAD_REQUEST', `project name must be 1 to ${maxProjectNameLength} characters`);
  if (!nameRule.test(name))
    throw new AppError(
      'BAD_REQUEST',
      'project name may hold only lowercase letters, digits and . _ - (not at the start or end, not two in a row)',
    );
}

/** Projects: Harbor's namespaces, their metadata and storage limit. */
export class ProjectService {
  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'projectCatalog' | 'transaction' | 'users'>;
      clock: Clock;
      /** Harbor's `storage_per_project`: the limit of a project created without one. */
      settings: Pick<SettingsService, 'values'>;
      quota: Pick<QuotaService, 'setHard'>;
      access: Pick<AccessControl, 'visibleProjects' | 'memberCounts'>;
      /** Refuses a registry endpoint a proxy-cache project cannot pull through (missing, unhealthy). */
      registries?: Pick<RegistryEndpoints, 'assertProxyUpstream'>;
      /** Gives a new proxy-cache project Harbor's default retention policy, in its creating transaction. */
      retention?: Pick<RetentionPolicies, 'createForProxyProject'>;
    },
  ) {}

  /** The projects the subject may see; `owner` narrows to those a username owns. */
  async list(
    _ctx: RequestContext,
    subject: Subject,
    query: ListQuery,
    filter: { owner?: string | undefined } = {},
  ): Promise<Page<ProjectView>> {
    if (filter.owner !== undefined) {
      const owner = await this.deps.store.users.idsByNames([filter.owner]);
      query.keywords.owner_id = { kind: 'exact', value: String(owner.get(filter.owner) ?? -1) };
    }
    const scope = await this.deps.access.visibleProjects(subject);
    const page = await this.deps.store.projectCatalog.list(query, scope);
    return { total: page.total, items: await this.views(page.items) };
  }

  /** Every project with its storage limit and use (Harbor's quota list; the caller may list quotas). */
  async quotaPage(_ctx: RequestContext, query: ListQuery): Promise<Page<ProjectQuota>> {
    const page = await this.deps.store.projectCatalog.list(query, 'all');
    const views = await this.views(page.items);
    const quotas = await this.quotas(views.map((v) => v.row.id));
    return { total: page.total, items: views.map((view) => ({ view, ...quotas.get(view.row.id)! })) };
  }

  async view(row: ProjectRow): Promise<ProjectView> {
    const repoCount = await this.deps.store.projectCatalog.repositoryCount(row.id);
    return (await this.views([{ ...row, repo_count: repoCount }]))[0]!;
  }

  private async views(rows: ProjectListRow[]): Promise<ProjectView[]> {
    const [meta, owners] = await Promise.all([
      this.deps.store.projectCatalog.metadata(rows.map((r) => r.id)),
      this.ownerNames(rows),
    ]);
    return rows.map(({ repo_count, ...row }) => ({
      row,
      repoCount: repo_count,
      metadata: { ...meta.get(row.id), public: row.public ? 'true' : 'false' },
      ownerName: (row.owner_id !== null && owners.get(row.owner_id)) || '',
    }));
  }

  /** Usernames of the projects' owners, by user id. */
  ownerNames(rows: readonly Pick<ProjectRow, 'owner_id'>[]): Promise<Map<number, string>> {
    return this.deps.store.users.namesByIds(
      rows.map((r) => r.owner_id).filter((id): id is number => id !== null),
    );
  }

  /** By id (a number, unless `isName`) or by name; NOT_FOUND otherwise. */
  async find(ref: string, isName: boolean): Promise<ProjectRow> {
    const byId = !isName && /^\d{1,10}$/.test(ref);
    const row = byId
      ? await this.deps.store.projectCatalog.byId(Number(ref))
      : await this.deps.store.projectCatalog.byName(ref);
    if (!row) throw new AppError('NOT_FOUND', `project ${ref} not found`);
    return row;
  }

  async exists(name: string): Promise<boolean> {
    return (await this.deps.store.projectCatalog.byName(name)) !== undefined;
  }

  async create(_ctx: RequestContext, input: NewProject, ownerId: number | null): Promise<ProjectRow> {
    assertProjectName(input.name);
    const metadata = checkMetadata(input.metadata ?? {});
    if (input.registryId !== undefined) {
      if (input.registryId <= 0)
        throw new AppError(
          'BAD_REQUEST',
          `${input.registryId} is invalid value of registry_id, it should be geater than 0`,
        );
      if (!this.deps.registries) throw new AppError('BAD_REQUEST', 'proxy cache projects are not supported');
      await this.deps.registries.assertProxyUpstream(input.registryId);
    } else {
      // As Harbor: the proxy settings mean nothing to a normal project.
      for (const k of [
        'proxy_speed_kb',
        'max_upstream_conn',
        'proxy_cache_filter_pattern',
        'proxy_cache_filter_kind',
      ])
        delete metadata[k];
    }
    // As Harbor: no limit given (or 0) takes the system default, `storage_per_project`.
    const storageLimit =
      input.storageLimit === undefined || input.storageLimit === null || input.storageLimit === 0
        ? (await this.deps.settings.values()).storagePerProject
        : assertStorageLimit('storage_limit', input.storageLimit);
    const isPublic = metadata.public !== undefined ? metadata.public === 'true' : (input.public ?? false);
    const now = this.deps.clock.now().toISOString();
    return this.deps.store.transaction(async (tx) => {
      const row = await tx.projectCatalog.create({
        name: input.name,
        public: isPublic,
        ownerId,
        now,
        registryId: input.registryId ?? null,
      });
      if (!row) throw new AppError('CONFLICT', `project ${input.name} already exists`);
      delete metadata.public;
      await tx.projectCatalog.putMetadata(row.id, metadata, now);
      await tx.projectCatalog.setQuota(row.id, storageLimit, now);
      // As in Harbor, the creator administers the project it made.
      if (ownerId !== null) await tx.members.create(row.id, 'u', ownerId, 1, now);
      if (input.registryId !== undefined) await this.deps.retention?.createForProxyProject(tx, row.id);
      return row;
    });
  }

  async update(
    _ctx: RequestContext,
    project: ProjectRow,
    input: {
      public?: boolean | null | undefined;
      metadata?: Record<string, string | null | undefined> | undefined;
      storageLimit?: number | null | undefined;
    },
  ): Promise<void> {
    const metadata = checkMetadata(input.metadata ?? {});
    const storageLimit =
      input.storageLimit === undefined || input.storageLimit === null
        ? undefined
        : assertStorageLimit('storage_limit', input.storageLimit);
    const now = this.deps.clock.now().toISOString();
    await this.deps.store.transaction(async (tx) => {
      const pub = metadata.public !== undefined ? metadata.public === 'true' : input.public;
      if (pub !== undefined && pub !== null) await tx.projectCatalog.setPublic(project.id, pub, now);
      else await tx.projectCatalog.touch(project.id, now);
      delete metadata.public;
      await tx.projectCatalog.putMetadata(project.id, metadata, now);
      if (storageLimit !== undefined) await tx.projectCatalog.setQuota(project.id, storageLimit, now);
    });
  }

  /** The quota of project `id`; NOT_FOUND when there is none such. */
  async getQuota(_ctx: RequestContext, id: number): Promise<ProjectQuota> {
    return this.quota(await this.find(String(id), false));
  }

  /** Sets project `id`'s hard limits (Harbor's updateQuota); NOT_FOUND, then the quota's own checks. */
  async updateQuota(
    ctx: RequestContext,
    id: number,
    hard: Record<string, unknown> | undefined,
  ): Promise<void> {
    const row = await this.find(String(id), false);
    await this.deps.quota.setHard(ctx, row.id, hard);
  }

  async quota(row: ProjectRow): Promise<ProjectQuota> {
    const [view, quotas] = await Promise.all([this.view(row), this.quotas([row.id])]);
    return { view, ...quotas.get(row.id)! };
  }

  /** Whether the project may be deleted now, and why not. */
  async deletable(project: ProjectRow): Promise<{ deletable: boolean; message: string }> {
    const repos = await this.deps.store.projectCatalog.repositoryCount(project.id);
    if (repos > 0)
      return { deletable: false, message: `the project contains ${repos} repositories, can not be deleted` };
    return { deletable: true, message: '' };
  }

  async delete(_ctx: RequestContext, project: ProjectRow): Promise<void> {
    const { deletable, message } = await this.deletable(project);
    if (!deletable) throw new AppError('PRECONDITION', message);
    await this.deps.store.projectCatalog.delete(project.id);
  }

  async summary(project: ProjectRow): Promise<ProjectSummary> {
    const [repoCount, quota, members] = await Promise.all([
      this.deps.store.projectCatalog.repositoryCount(project.id),
      this.quotas([project.id]),
      this.deps.access.memberCounts(project.id),
    ]);
    const q = quota.get(project.id)!;
    return { repoCount, hardStorage: q.hard, usedStorage: q.used, members };
  }

  /** Storage limit and use of each project (no quota row: no limit, nothing used). */
  async quotas(
    projectIds: readonly number[],
  ): Promise<Map<number, { hard: number; used: number; creationTime?: string; updateTime?: string }>> {
    const rows = await this.deps.store.projectCatalog.quotaRows(projectIds);
    return new Map(
      projectIds.map((id) => {
        const r = rows.get(id);
        return [
          id,
          r
            ? {
                hard: r.hard_storage,
                used: r.used_storage,
                creationTime: r.creation_time,
                updateTime: r.update_time,
              }
            : { hard: -1, used: 0 },
        ];
      }),
    );
  }
}
