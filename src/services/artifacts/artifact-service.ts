import { LRUCache } from 'lru-cache';
import type { ReferenceRow } from '../../db/repos/artifact-catalog.js';
import type { RepositoryListRow } from '../../db/repos/repository-catalog.js';
import type { MetaStore } from '../../db/store.js';
import type { ArtifactRow, LabelRow, ProjectRow, TagRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { tryParseJsonObject } from '../../lib/bounded-json.js';
import { readChartFiles, readSbomDocument } from './additions.js';
import { AppError } from '../../lib/errors.js';
import type { ListQuery, Page } from '../../lib/query.js';
import { manifestKind } from '../../oci/media-types.js';
import { assertTag } from '../../oci/names.js';
import type { StorageDriver } from '../../storage/driver.js';
import { layout } from '../../storage/layout.js';
import { readAddition, type Addition } from './additions.js';
import { findArtifact, findRepository, resolveArtifact, type ArtifactRef } from './artifact-ref.js';
import type { RequestContext } from '../context.js';
import type { EventBus } from '../events.js';
import type { TagProtection } from '../policies/immutability/immutability-service.js';
import type { ManifestService } from '../registry/manifest-service.js';

/** A tag with whether an immutability rule protects it. */
export type TagView = TagRow & { immutable: boolean };

/** The repository a page of artifacts is in: its tags are checked against the project's rules. */
type RepositoryRef = Pick<RepositoryListRow, 'project_id' | 'name'>;

export interface ArtifactView {
  row: ArtifactRow;
  tags: TagView[];
  labels: LabelRow[];
  references: ReferenceRow[];
  accessories: ArtifactRow[];
  /** From the image config: architecture, os, author, created, config. */
  extraAttrs: Record<string, unknown>;
  /** Harbor's `scan_overview` by report MIME type, when asked for and the artifact has a report. */
  scanOverview?: Record<string, unknown>;
  /** Harbor's `sbom_overview`, when asked for (absent before an SBOM was asked for). */
  sbomOverview?: Record<string, unknown>;
}

/** What artifact views read of scanning: overviews of a page, and an artifact's reports. */
export interface ScanReads {
  overviews(projectId: number, rows: ArtifactRow[]): Promise<Map<number, Record<string, unknown>>>;
  sbomOverviews(projectId: number, rows: ArtifactRow[]): Promise<Map<number, Record<string, unknown>>>;
  vulnerabilities(subject: {
    projectId: number;
    repository: string;
    repositoryId: number;
    row: ArtifactRow;
  }): Promise<Record<string, unknown>>;
}

export type { ArtifactRef };

export interface ViewOptions {
  withTag?: boolean;
  withLabel?: boolean;
  withAccessory?: boolean;
  withScanOverview?: boolean;
  withSbomOverview?: boolean;
}

/** Image configs are a few KiB; one over this is not shown (Harbor reads them whole too). */
const maxConfigBytes = 4 * 1024 * 1024;

type Deps = {
  store: Pick<
    MetaStore,
    'artifactCatalog' | 'artifacts' | 'labels' | 'repositoryCatalog' | 'tags' | 'transaction'
  >;
  storage: StorageDriver;
  clock: Clock;
  events: EventBus;
  manifests: ManifestService;
  immutability: TagProtection;
  scans?: ScanReads;
};

/** Artifacts as Harbor's API shows them; a page costs a fixed number of queries whatever its size. */
export class ArtifactService {
  /**
   * Parsed image configs by digest (content-addressed, so safe to keep), weighed by their size in bytes;
   * configs that cannot be shown are remembered as null so they are not read again.
   */
  private readonly configs = new LRUCache<string, { config: Record<string, unknown> | null }, number>({
    maxSize: 32 * 1024 * 1024,
    sizeCalculation: () => 1,
  });

  /**
   * Chart files by manifest digest (content-addressed). Reading a chart decompresses it on the thread
   * pool; one read at a time, shared by concurrent requests for the same chart, leaves the other core to
   * the event loop whatever a client pushed.
   */
  private readonly charts = new LRUCache<string, { files: Map<string, string> | null }>({
    maxSize: 16 * 1024 * 1024,
    sizeCalculation: (v) => 1 + [...(v.files?.values() ?? [])].reduce((n, s) => n + s.length, 0),
  });
  private readonly chartReads = new Map<string, Promise<Map<string, string> | undefined>>();
  private chartGate: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: Deps) {}

  /** The top-level files of a Helm chart artifact; undefined when the chart cannot be read. */
  async chartFiles(row: ArtifactRow): Promise<Map<string, string> | undefined> {
    const cached = this.charts.get(row.digest);
    if (cached) return cached.files ?? undefined;
    let pending = this.chartReads.get(row.digest);
    if (!pending) {
      const read = this.chartGate.then(() => readChartFiles(this.deps.storage, row));
      this.chartGate = read.catch(() => undefined);
      pending = read
        .then((files) => {
          this.charts.set(row.digest, { files: files ?? null });
          return files;
        })
        .finally(() => this.chartReads.delete(row.digest));
      this.chartReads.set(row.digest, pending);
    }
    return pending;
  }

  /** The artifacts of one repository of a project; NOT_FOUND when it has none such. */
  async list(
    _ctx: RequestContext,
    where: { project: ProjectRow; repository: string },
    query: ListQuery,
    opts: ViewOptions,
  ): Promise<Page<ArtifactView>> {
    const repo = await this.repository(where.project, where.repository);
    const page = await this.deps.store.artifactCatalog.list(query, { repositoryId: repo.id });
    return { total: page.total, items: await this.views(page.items, opts, repo) };
  }

  /**
   * Harbor's listArtifactsOfProject: the artifacts of every repository of the project, each with its
   * repository's full name. `latestInRepository` keeps the newest of each repository, and then the query
   * must filter on exactly one of media_type and artifact_type (the type "latest" is among).
   */
  async listInProject(
    _ctx: RequestContext,
    project: ProjectRow,
    query: ListQuery,
    opts: ViewOptions & { latestInRepository?: boolean },
  ): Promise<Page<ArtifactView & { repositoryName: string }>> {
    let latest: 'media_type' | 'artifact_type' | undefined;
    if (opts.latestInRepository) {
      const media = 'media_type' in query.keywords;
      if (media === 'artifact_type' in query.keywords)
        throw new AppError(
          'BAD_REQUEST',
          "either 'media_type' or 'artifact_type' must be specified, but not both, when querying with latest_in_repository",
        );
      latest = media ? 'media_type' : 'artifact_type';
    }
    const catalog = this.deps.store.artifactCatalog;
    const page = await catalog.list(query, {
      projectId: project.id,
      ...(latest ? { latestInRepository: latest } : {}),
    });
    const [views, names] = await Promise.all([
      this.views(page.items, opts, undefined, project.id),
      this.deps.store.repositoryCatalog.namesOf(page.items.map((r) => r.repository_id)),
    ]);
    const items = views.map((v) => ({ ...v, repositoryName: names.get(v.row.repository_id) ?? '' }));
    return { total: page.total, items };
  }

  /** `name` is the repository name without the project; NOT_FOUND when there is none such. */
  repository(project: ProjectRow, name: string): Promise<RepositoryListRow> {
    return findRepository(this.deps.store, project, name);
  }

  /** The repository and artifact a reference names; NOT_FOUND for either. */
  resolve(ref: ArtifactRef): Promise<{ repo: RepositoryListRow; row: ArtifactRow }> {
    return resolveArtifact(this.deps.store, ref);
  }

  async getArtifact(_ctx: RequestContext, ref: ArtifactRef, opts: ViewOptions): Promise<ArtifactView> {
    const { repo, row } = await this.resolve(ref);
    const [view] = await this.views([row], opts, repo);
    return view!;
  }

  /** By digest or tag; NOT_FOUND otherwise. */
  find(repo: RepositoryListRow, reference: string): Promise<ArtifactRow> {
    return findArtifact(this.deps.store, repo, reference);
  }

  /** `repo` (when all rows are of one repository) marks the tags immutability rules protect. */
  async views(
    rows: ArtifactRow[],
    opts: ViewOptions,
    repo?: RepositoryRef,
    projectId = repo?.project_id,
  ): Promise<ArtifactView[]> {
    const ids = rows.map((r) => r.id);
    const byRepo = new Map<number, string[]>();
    for (const r of rows)
      (byRepo.get(r.repository_id) ?? byRepo.set(r.repository_id, []).get(r.repository_id)!).push(r.digest);
    const catalog = this.deps.store.artifactCatalog;
    const scans = this.deps.scans;
    const [tags, labels, refs, accessories, attrs, overviews, sboms] = await Promise.all([
      opts.withTag === false ? new Map<number, TagRow[]>() : catalog.tagsOf(ids),
      opts.withLabel ? this.deps.store.labels.ofArtifacts(ids) : new Map<number, LabelRow[]>(),
      // Only an index references children: a page of images (a scan overview polled) asks nothing.
      catalog.referencesOf(rows.filter((r) => manifestKind(r.media_type) !== 'image').map((r) => r.id)),
      opts.withAccessory
        ? Promise.all([...byRepo].map(([repoId, digests]) => catalog.accessoriesOf(repoId, digests))).then(
            (maps) => new Map(maps.flatMap((m) => [...m])),
          )
        : new Map<string, ArtifactRow[]>(),
      Promise.all(rows.map((r) => this.extraAttrs(r))),
      opts.withScanOverview && scans && projectId !== undefined
        ? scans.overviews(projectId, rows)
        : new Map<number, Record<string, unknown>>(),
      opts.withSbomOverview && scans && projectId !== undefined
        ? scans.sbomOverviews(projectId, rows)
        : new Map<number, Record<string, unknown>>(),
    ]);
    const mark = await this.tagMarker(repo, tags.size > 0);
    return rows.map((row, i) => ({
      row,
      tags: (tags.get(row.id) ?? []).map(mark),
      labels: labels.get(row.id) ?? [],
      references: refs.get(row.id) ?? [],
      accessories: accessories.get(row.digest) ?? [],
      extraAttrs: attrs[i]!,
      // Harbor omits `scan_overview` (omitempty) for an artifact without any report of the project's scanner.
      ...(Object.keys(overviews.get(row.id) ?? {}).length ? { scanOverview: overviews.get(row.id)! } : {}),
      ...(sboms.has(row.id) ? { sbomOverview: sboms.get(row.id)! } : {}),
    }));
  }

  private async tagMarker(repo: RepositoryRef | undefined, any: boolean): Promise<(t: TagRow) => TagView> {
    const rules = repo && any ? await this.deps.immutability.matcher(repo.project_id) : undefined;
    return (t) => ({ ...t, immutable: rules?.protects(repo!.name, t.name) ?? false });
  }

  /**
   * The config blob of an image, parsed within bounds (size checked before reading, depth before
   * parsing) and cached by digest; undefined for other artifacts and for configs that cannot be shown,
   * whose fields a listing then leaves empty.
   */
  async config(row: ArtifactRow): Promise<Record<string, unknown> | undefined> {
    const digest = row.config_digest;
    if (!digest) return undefined;
    const cached = this.configs.get(digest);
    if (cached) return cached.config ?? undefined;
    let config: Record<string, unknown> | undefined;
    let size = 1;
    try {
      const path = layout.blob(digest);
      size = (await this.deps.storage.stat(path)).size;
      if (size <= maxConfigBytes) {
        config = tryParseJsonObject(await this.deps.storage.getContent(path), { maxBytes: maxConfigBytes });
      }
    } catch {
      return undefined; // unreadable now (storage trouble): tried again next time
    }
    this.configs.set(digest, { config: config ?? null }, { size: config ? Math.max(size, 1) : 1 });
    return config;
  }

  private async extraAttrs(row: ArtifactRow): Promise<Record<string, unknown>> {
    const config = await this.config(row);
    if (!config) return {};
    const pick = ['architecture', 'os', 'author', 'created', 'config', 'variant', 'os.version'] as const;
    return Object.fromEntries(pick.filter((k) => config[k] !== undefined).map((k) => [k, config[k]]));
  }

  /** One of Harbor's additions of the artifact (build history, chart readme, values, dependencies, sbom). */
  async getAddition(_ctx: RequestContext, ref: ArtifactRef, name: string): Promise<Addition> {
    const { row } = await this.resolve(ref);
    return readAddition(
      row,
      {
        config: () => this.config(row),
        chart: () => this.chartFiles(row),
        sbom: () => readSbomDocument(this.deps.storage, row),
      },
      name,
    );
  }

  /** The artifact's vulnerability reports by MIME type: none while no scanner has reported. */
  async getVulnerabilitiesAddition(_ctx: RequestContext, ref: ArtifactRef): Promise<Record<string, unknown>> {
    const { repo, row } = await this.resolve(ref);
    if (!this.deps.scans) return {};
    return this.deps.scans.vulnerabilities({
      projectId: repo.project_id,
      repository: repo.name,
      repositoryId: repo.id,
      row,
    });
  }

  async deleteArtifact(ctx: RequestContext, ref: ArtifactRef): Promise<void> {
    const { repo, row } = await this.resolve(ref);
    await this.delete(ctx, repo, row);
  }

  /** Deletes `digest` from the repository of that full name, if both still exist (retention's delete). */
  async deleteByName(ctx: RequestContext, repository: string, digest: string): Promise<void> {
    const repo = await this.deps.store.repositoryCatalog.byName(repository);
    if (repo) await this.delete(ctx, repo, await this.find(repo, digest));
  }

  /** Deletes the artifact, its tags, labels and accessories (refused while an index lists it). */
  async delete(ctx: RequestContext, repo: RepositoryListRow, row: ArtifactRow): Promise<void> {
    await this.deps.manifests.assertDeletable(repo.name, repo.project_id, row);
    const parents = await this.deps.store.artifacts.parents(row.id);
    if (parents.length > 0)
      throw new AppError(
        'PRECONDITION',
        `artifact ${row.digest} is referenced by index ${parents[0]}; delete the index first`,
      );
    const accessories = await this.deps.store.artifactCatalog.accessoriesOf(repo.id, [row.digest]);
    for (const acc of accessories.get(row.digest) ?? []) await this.delete(ctx, repo, acc);
    await this.deps.manifests.delete(ctx, repo.name, row.digest);
  }

  async listTags(_ctx: RequestContext, ref: ArtifactRef, query: ListQuery): Promise<Page<TagView>> {
    const { repo, row } = await this.resolve(ref);
    const page = await this.deps.store.artifactCatalog.tagPage(row.id, query);
    return { total: page.total, items: page.items.map(await this.tagMarker(repo, page.items.length > 0)) };
  }

  /** Tags the artifact; returns its digest. */
  async createTag(ctx: RequestContext, ref: ArtifactRef, name: string): Promise<string> {
    const { repo, row } = await this.resolve(ref);
    try {
      assertTag(name);
    } catch {
      throw new AppError('BAD_REQUEST', `invalid tag name "${name.slice(0, 200)}"`);
    }
    const existing = await this.deps.store.artifacts.findByTag(repo.id, name);
    if (existing) throw new AppError('CONFLICT', `tag ${name} already exists in ${repo.name}`);
    const event = {
      repository: repo.name,
      digest: row.digest,
      tag: name,
      mediaType: row.media_type,
      actor: ctx.actor,
    };
    await this.deps.store.transaction(async (tx) => {
      await tx.tags.put(repo.id, name, row.id, this.deps.clock.now().toISOString());
      await this.deps.events.publish(tx, 'TagCreated', event);
    });
    this.deps.events.emit('TagCreated', event);
    return row.digest;
  }

  async deleteTag(ctx: RequestContext, ref: ArtifactRef, name: string): Promise<void> {
    const { repo, row } = await this.resolve(ref);
    const tagged = await this.deps.store.artifacts.findByTag(repo.id, name);
    if (!tagged || tagged.id !== row.id)
      throw new AppError('NOT_FOUND', `tag ${name} not found on ${row.digest}`);
    await this.deps.immutability.assertUnprotected('delete', repo.project_id, repo.name, [name]);
    await this.deps.store.tags.delete(repo.id, name);
    this.deps.events.emit('TagDeleted', { repository: repo.name, tag: name, actor: ctx.actor });
  }

  /** Attaches a global label or one of the artifact's project; CONFLICT when already attached. */
  async addLabel(ctx: RequestContext, ref: ArtifactRef, labelId: number): Promise<void> {
    const { repo, row } = await this.resolve(ref);
    const projectId = ref.project.id;
    const label = await this.deps.store.labels.byId(labelId);
    if (!label) throw new AppError('NOT_FOUND', `label ${labelId} not found`);
    if (label.scope === 'p' && label.project_id !== projectId)
      throw new AppError('BAD_REQUEST', `label ${labelId} belongs to another project`);
    const event = { repository: repo.name, digest: row.digest, labelId, actor: ctx.actor };
    await this.deps.store.transaction(async (tx) => {
      if (!(await tx.labels.attach(row.id, labelId, this.deps.clock.now().toISOString())))
        throw new AppError('CONFLICT', `label ${labelId} is already added to the artifact`);
      await this.deps.events.publish(tx, 'ArtifactLabeled', event);
    });
  }

  async removeLabel(_ctx: RequestContext, ref: ArtifactRef, labelId: number): Promise<void> {
    const { row } = await this.resolve(ref);
    if (!(await this.deps.store.labels.detach(row.id, labelId)))
      throw new AppError('NOT_FOUND', `label ${labelId} is not added to the artifact`);
  }

  /** A page of the artifact's accessories (signatures, SBOMs, ...), with the artifact they belong to. */
  async listAccessories(
    _ctx: RequestContext,
    ref: ArtifactRef,
    query: ListQuery,
  ): Promise<Page<ArtifactRow> & { subject: ArtifactRow }> {
    const { repo, row } = await this.resolve(ref);
    const all =
      (await this.deps.store.artifactCatalog.accessoriesOf(repo.id, [row.digest])).get(row.digest) ?? [];
    const start = (query.page - 1) * query.pageSize;
    return { total: all.length, items: all.slice(start, start + query.pageSize), subject: row };
  }
}
