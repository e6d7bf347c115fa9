import type { ProjectListRow, ProjectScope } from '../../db/repos/project-catalog.js';
import type { MetaStore } from '../../db/store.js';
import type { ProjectRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { ListQuery, Page } from '../../lib/query.js';
import type { AccessControl } from '../access/access-control.js';
import { projectPolicies, publicProjectPolicies, type ProjectRole } from '../access/rbac.js';
import type { Subject } from '../access/subject.js';
import type { RequestContext } from '../context.js';
import { assertStorageLimit } from '../policies/quota/storage-limit.js';
import type { RetentionPolicies } from '../policies/retention/retention-policies.js';
import type { RegistryEndpoints, RegistryView } from '../replication/registry-endpoints.js';
import type { SettingsService } from '../settings/settings.js';
import type { QuotaService } from '../policies/quota/quota-service.js';
import {
  cveAllowlistValues,
  renderCveAllowlist,
  type CveAllowlist,
  type CveAllowlistInput,
} from '../scanning/cve-allowlists.js';
import { assertFilterSettings } from '../proxy/repository-filter.js';
import { checkMetadata } from './project-metadata.js';

export type { ProjectScope };

/** Harbor's project name rule. */
/** Harbor drops these from a normal project's create and update bodies. */
const proxyOnlyKeys = [
  'proxy_speed_kb',
  'max_upstream_conn',
  'proxy_cache_filter_pattern',
  'proxy_cache_filter_kind',
] as const;
const nameRule = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
export const maxProjectNameLength = 255;

export interface ProjectView {
  row: ProjectRow;
  repoCount: number;
  metadata: Record<string, string>;
  /** The owner's username; empty when the owner is gone. */
  ownerName: string;
  /** The project's own CVE allowlist (used by pulls when `reuse_sys_cve_allowlist` is "false"). */
  cveAllowlist: CveAllowlist;
}

export interface NewProject {
  /** Required; optional here so that its absence gets Harbor's answer. */
  name?: string | undefined;
  public?: boolean | null | undefined;
  metadata?: Record<string, string | null | undefined> | undefined;
  storageLimit?: number | null | undefined;
  /** A registry endpoint: the project is a proxy cache of it (docs/proxy-cache.md). */
  registryId?: number | undefined;
}

export interface ProjectSummary {
  /** A proxy-cache project's upstream endpoint, without its credential (as Harbor). */
  upstream?: Omit<RegistryView, 'credential'> | undefined;
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
      store: Pick<MetaStore, 'projectCatalog' | 'transaction' | 'users' | 'cveAllowlists'>;
      clock: Clock;
      /** Harbor's `storage_per_project`: the limit of a project created without one. */
      settings: Pick<SettingsService, 'values'>;
      quota: Pick<QuotaService, 'setHard'>;
      access: Pick<AccessControl, 'visibleProjects' | 'memberCounts' | 'can'>;
      /**
       * Refuses a registry endpoint a proxy-cache project cannot pull through (missing, unhealthy), and names
       * a proxy-cache project's upstream in its summary.
       */
      registries?: Pick<RegistryEndpoints, 'assertProxyUpstream' | 'get' | 'view'>;
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
    const ids = rows.map((r) => r.id);
    const [meta, owners, allowlists] = await Promise.all([
      this.deps.store.projectCatalog.metadata(ids),
      this.ownerNames(rows),
      this.deps.store.cveAllowlists.getMany(ids),
    ]);
    return rows.map(({ repo_count, ...row }) => ({
      row,
      repoCount: repo_count,
      metadata: { ...meta.get(row.id), public: row.public ? 'true' : 'false' },
      ownerName: (row.owner_id !== null && owners.get(row.owner_id)) || '',
      cveAllowlist: renderCveAllowlist(row.id, allowlists.get(row.id)),
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

  /**
   * A new project owned by `creator`, with Harbor's rules: `project_creation_restriction` may keep it to system
   * administrators, who alone make proxy-cache projects and choose a storage limit (others get
   * `storage_per_project`).
   */
  async create(_ctx: RequestContext, creator: Subject, input: NewProject): Promise<ProjectRow> {
    const sysadmin = creator.kind === 'user' && creator.sysadmin;
    if (!sysadmin && (await this.deps.settings.values()).projectCreationRestriction === 'adminonly')
      throw new AppError('FORBIDDEN', 'only system administrators may create projects');
    if (input.name === undefined) throw new AppError('BAD_REQUEST', 'project_name is required');
    if (input.registryId !== undefined && !sysadmin)
      throw new AppError('FORBIDDEN', 'Only system admin can create proxy cache project');
    const name = input.name;
    assertProjectName(name);
    const ownerId = creator.kind === 'user' ? creator.userId : null;
    const metadata = checkMetadata(input.metadata ?? {});
    if (input.registryId !== undefined) {
      if (input.registryId <= 0)
        throw new AppError(
          'BAD_REQUEST',
          `${input.registryId} is invalid value of registry_id, it should be geater than 0`,
        );
      if (!this.deps.registries) throw new AppError('BAD_REQUEST', 'proxy cache projects are not supported');
      assertFilterSettings(metadata);
      await this.deps.registries.assertProxyUpstream(input.registryId);
    } else {
      // As Harbor: the proxy settings mean nothing to a normal project.
      for (const k of proxyOnlyKeys) delete metadata[k];
    }
    // As Harbor: no limit given (or 0) takes the system default, `storage_per_project`.
    const storageLimit =
      !sysadmin || input.storageLimit === undefined || input.storageLimit === null || input.storageLimit === 0
        ? (await this.deps.settings.values()).storagePerProject
        : assertStorageLimit('storage_limit', input.storageLimit);
    const isPublic = metadata.public !== undefined ? metadata.public === 'true' : (input.public ?? false);
    const now = this.deps.clock.now().toISOString();
    return this.deps.store.transaction(async (tx) => {
      const row = await tx.projectCatalog.create({
        name,
        public: isPublic,
        ownerId,
        now,
        registryId: input.registryId ?? null,
      });
      if (!row) throw new AppError('CONFLICT', `project ${name} already exists`);
      delete metadata.public;
      await tx.projectCatalog.putMetadata(row.id, metadata, now);
      await tx.projectCatalog.setQuota(row.id, storageLimit, now);
      // As in Harbor, the creator administers the project it made.
      if (ownerId !== null) await tx.members.create(row.id, 'u', ownerId, 1, now);
      if (input.registryId !== undefined) await this.deps.retention?.createForProxyProject(tx, row.id);
      return row;
    });
  }

  /**
   * Updates a project's visibility, metadata and (for whoever may update quotas; Harbor ignores it here
   * altogether) its storage limit. A project is never renamed.
   */
  async update(
    _ctx: RequestContext,
    subject: Subject,
    project: ProjectRow,
    input: {
      name?: string | undefined;
      public?: boolean | null | undefined;
      metadata?: Record<string, string | null | undefined> | undefined;
      storageLimit?: number | null | undefined;
      /** Harbor's `cve_allowlist`: replaces the project's own; its `project_id`, when not 0, must be this one. */
      cveAllowlist?: (CveAllowlistInput & { project_id?: number | undefined }) | undefined;
    },
  ): Promise<void> {
    if (input.name !== undefined && input.name !== project.name)
      throw new AppError('BAD_REQUEST', 'a project cannot be renamed');
    const metadata = checkMetadata(input.metadata ?? {});
    // As Harbor: the proxy settings mean nothing to a normal project; a proxy project's filter is checked.
    if (project.registry_id === null) for (const k of proxyOnlyKeys) delete metadata[k];
    else assertFilterSettings(metadata);
    const mayLimit =
      input.storageLimit != null &&
      (await this.deps.access.can(subject, 'update', { scope: 'system', resource: 'quota' }));
    const allowlistOwner = input.cveAllowlist?.project_id ?? 0;
    if (allowlistOwner !== 0 && allowlistOwner !== project.id)
      throw new AppError(
        'BAD_REQUEST',
        `project_id in cve_allowlist must be ${project.id} but it's ${allowlistOwner}`,
      );
    const allowlist = input.cveAllowlist ? cveAllowlistValues(input.cveAllowlist) : undefined;
    const storageLimit =
      !mayLimit || input.storageLimit === undefined || input.storageLimit === null
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
      if (allowlist) await tx.cveAllowlists.put(project.id, allowlist, now);
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

  /**
   * Every project permission (`resource:action` of Harbor's role matrix) `subject` holds in project `id`;
   * undefined when there is no such project (Harbor's /users/current/permissions then lists nothing).
   */
  async permissionsIn(
    subject: Subject,
    id: number,
  ): Promise<{ project: ProjectRow; grants: { resource: string; action: string }[] } | undefined> {
    const project = await this.deps.store.projectCatalog.byId(id);
    if (!project) return undefined;
    const target = { id: project.id, name: project.name, public: project.public === 1 };
    const all = new Set<string>(publicProjectPolicies);
    for (const role of Object.keys(projectPolicies) as ProjectRole[])
      for (const p of projectPolicies[role]) all.add(p);
    const grants: { resource: string; action: string }[] = [];
    for (const key of all) {
      const [resource, action] = key.split(':') as [string, string];
      if (await this.deps.access.can(subject, action, { scope: 'project', project: target, resource }))
        grants.push({ resource, action });
    }
    return { project, grants };
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
    const [repoCount, quota, members, upstream] = await Promise.all([
      this.deps.store.projectCatalog.repositoryCount(project.id),
      this.quotas([project.id]),
      this.deps.access.memberCounts(project.id),
      this.upstream(project),
    ]);
    const q = quota.get(project.id)!;
    return { upstream, repoCount, hardStorage: q.hard, usedStorage: q.used, members };
  }

  /** A proxy-cache project's registry endpoint without its credential; none when it is gone. */
  private async upstream(project: ProjectRow): Promise<Omit<RegistryView, 'credential'> | undefined> {
    const registries = this.deps.registries;
    if (!project.registry_id || !registries) return undefined;
    const row = await registries.get(project.registry_id).catch(() => undefined);
    if (!row) return undefined;
    const { credential: _secret, ...view } = registries.view(row);
    return view;
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
