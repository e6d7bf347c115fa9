import { createReadStream } from 'node:fs';
import { access, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { AppError } from '../../lib/errors.js';
import type { MetaStore } from '../../db/store.js';
import type { ProjectRow, RepositoryRow } from '../../db/tables.js';
import { allQuery } from '../../lib/query.js';
import type { AccessControl } from '../access/access-control.js';
import type { Subject } from '../access/subject.js';
import type { ProjectView } from '../projects/project-service.js';
import { renderCveAllowlist } from '../scanning/cve-allowlists.js';
import type { SettingsService } from '../settings/settings.js';
import { berthVersion } from '../../version.js';

/** What this instance is, from its configuration (systeminfo). */
export interface InstanceFacts {
  authMode: string;
  externalUrl: string | undefined;
  storageDriver: string;
  /** The OIDC provider's display name under oidc_auth. */
  oidcProviderName?: string | undefined;
}

/** The facts systeminfo reports, from Berth's configuration. */
export function instanceFacts(config: {
  auth: { mode: string; oidc?: { name: string } | undefined };
  server: { externalUrl?: string | undefined };
  storage: { driver: string };
}): InstanceFacts {
  return {
    authMode: config.auth.mode,
    externalUrl: config.server.externalUrl,
    storageDriver: config.storage.driver,
    ...(config.auth.mode === 'oidc_auth' && config.auth.oidc
      ? { oidcProviderName: config.auth.oidc.name }
      : {}),
  };
}

/** Harbor's systeminfo: what anyone sees, and what only signed-in callers see. */
export interface SystemInfo {
  version: string;
  authMode: string;
  oidcProviderName?: string | undefined;
  signedIn?: {
    externalUrl: string;
    registryHost: string;
    projectCreationRestriction: string;
    storageDriver: string;
    /** Whether a root CA certificate is configured (getCert serves it). */
    hasCaRoot: boolean;
  };
}

export interface Statistics {
  privateProjects: number;
  publicProjects: number;
  privateRepositories: number;
  publicRepositories: number;
  totalStorage: number;
  /** Whether the caller sees every project (Harbor shows totals only then). */
  seesAll: boolean;
}

export interface SearchResult {
  /** Found projects; their metadata holds `public` only. */
  projects: ProjectView[];
  repositories: (RepositoryRow & { artifact_count: number; project: ProjectRow })[];
}

/** System-wide views: counts, storage, search, volumes. */
export class SystemService {
  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'projectCatalog' | 'repositoryCatalog' | 'users'>;
      access: Pick<AccessControl, 'visibleProjects'>;
      settings: Pick<SettingsService, 'values'>;
      instance: InstanceFacts;
      dataDir: string;
    },
  ) {}

  /**
   * Harbor's systeminfo for `subject`; `origin` (the request's scheme and host) stands in for the external
   * URL when none is configured. Harbor shows the instance's URLs and settings to signed-in callers only.
   */
  async info(subject: Subject, origin: string): Promise<SystemInfo> {
    const { instance } = this.deps;
    const open = {
      version: berthVersion,
      authMode: instance.authMode,
      oidcProviderName: instance.oidcProviderName,
    };
    if (subject.kind === 'anonymous') return open;
    const externalUrl = instance.externalUrl ?? origin;
    return {
      ...open,
      signedIn: {
        externalUrl,
        registryHost: new URL(externalUrl).host,
        projectCreationRestriction: (await this.deps.settings.values()).projectCreationRestriction,
        storageDriver: instance.storageDriver,
        hasCaRoot: await access(this.caPath()).then(
          () => true,
          () => false,
        ),
      },
    };
  }

  /** Counts of the projects and repositories the subject may see. */
  async statistics(subject: Subject): Promise<Statistics> {
    const scope = await this.deps.access.visibleProjects(subject);
    const catalog = this.deps.store.projectCatalog;
    if (scope === 'all') {
      const [projects, repos, storage] = await Promise.all([
        catalog.countByVisibility(),
        this.deps.store.repositoryCatalog.countByVisibility(),
        catalog.totalStorage(),
      ]);
      return {
        privateProjects: projects.private,
        publicProjects: projects.public,
        privateRepositories: repos.private,
        publicRepositories: repos.public,
        totalStorage: storage,
        seesAll: true,
      };
    }
    // A member sees public counts and the private projects it belongs to.
    const mine = { ids: scope.ids, publicToo: false };
    const [projects, privateProjects, publicRepos, myRepos] = await Promise.all([
      catalog.countByVisibility(),
      catalog.list({ ...allQuery(1), keywords: { public: { kind: 'exact', value: 'false' } } }, mine),
      this.deps.store.repositoryCatalog.countByVisibility(),
      this.deps.store.repositoryCatalog.list({ ...allQuery(1), keywords: {} }, { scope: mine }),
    ]);
    return {
      privateProjects: privateProjects.total,
      publicProjects: projects.public,
      privateRepositories: myRepos.total,
      publicRepositories: publicRepos.public,
      totalStorage: 0,
      seesAll: false,
    };
  }

  /** Projects and repositories whose name contains `text`, among those the caller may see (at most 100 each). */
  async search(subject: Subject, text: string): Promise<SearchResult> {
    const scope = await this.deps.access.visibleProjects(subject);
    const keywords = { name: { kind: 'fuzzy' as const, value: text } };
    const [projects, repos] = await Promise.all([
      this.deps.store.projectCatalog.list({ ...allQuery(100), keywords }, scope),
      this.deps.store.repositoryCatalog.list({ ...allQuery(100), keywords }, { scope }),
    ]);
    const projectIds = [...new Set(repos.items.map((r) => r.project_id))];
    const owners = new Map<number, ProjectRow>();
    for (const id of projectIds) {
      const p = await this.deps.store.projectCatalog.byId(id);
      if (p) owners.set(id, p);
    }
    const ownerNames = await this.deps.store.users.namesByIds(
      projects.items.map((p) => p.owner_id).filter((id): id is number => id !== null),
    );
    return {
      projects: projects.items.map(({ repo_count, ...row }) => ({
        row,
        repoCount: repo_count,
        metadata: { public: row.public ? 'true' : 'false' },
        ownerName: (row.owner_id !== null && ownerNames.get(row.owner_id)) || '',
        // Search shows names only, as its metadata does: the allowlist is not read here.
        cveAllowlist: renderCveAllowlist(row.id, undefined),
      })),
      repositories: repos.items
        .filter((r) => owners.has(r.project_id))
        .map((r) => ({ ...r, project: owners.get(r.project_id)! })),
    };
  }

  /** Total and free bytes of the volume holding the data directory. */
  async volumes(): Promise<{ total: number; free: number }> {
    const s = await statfs(this.deps.dataDir);
    return { total: s.blocks * s.bsize, free: s.bavail * s.bsize };
  }

  /**
   * The registry's root CA certificate for clients to trust (Harbor's getCert), read from
   * `<data.dir>/ca/ca.crt` where the operator puts it (Harbor: /etc/core/ca/ca.crt); NOT_FOUND without one.
   */
  async caCertificate(): Promise<Readable> {
    const path = this.caPath();
    try {
      await access(path);
    } catch {
      throw new AppError('NOT_FOUND', 'cert not found: no root CA certificate is configured');
    }
    return createReadStream(path);
  }

  private caPath(): string {
    return join(this.deps.dataDir, 'ca', 'ca.crt');
  }
}
