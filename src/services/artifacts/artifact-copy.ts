import type { MetaStore } from '../../db/store.js';
import type { ArtifactRow, ProjectRow, RepositoryRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { isDigestString } from '../../oci/digest.js';
import { splitRepositoryName } from '../../oci/names.js';
import type { StorageDriver } from '../../storage/driver.js';
import { layout } from '../../storage/layout.js';
import type { RequestContext } from '../context.js';
import type { TagProtection } from '../policies/immutability/immutability-service.js';
import type { QuotaService } from '../policies/quota/quota-service.js';
import type { ManifestService } from '../registry/manifest-service.js';

export interface CopySource {
  projectName: string;
  repository: RepositoryRow;
  artifact: ArtifactRow;
}

/**
 * Harbor's artifact copy (`POST .../artifacts?from=p/r:tag`): the target project gains links to the
 * source's blobs (no bytes move), then the manifests are accepted as if pushed, children first; tags and
 * accessories (signatures, SBOMs) come along.
 */
export class ArtifactCopier {
  constructor(
    private readonly deps: {
      store: Pick<
        MetaStore,
        'artifactCatalog' | 'artifacts' | 'blobs' | 'repositories' | 'tags' | 'transaction'
      >;
      storage: StorageDriver;
      clock: Clock;
      manifests: ManifestService;
      immutability: TagProtection;
      quota: QuotaService;
    },
  ) {}

  /** Parses `project/repo:tag` or `project/repo@digest` and finds the artifact; BAD_REQUEST / NOT_FOUND. */
  async source(from: string): Promise<CopySource> {
    const at = from.lastIndexOf('@');
    let name: string;
    let reference: string;
    if (at > 0) {
      name = from.slice(0, at);
      reference = from.slice(at + 1);
      if (!isDigestString(reference))
        throw new AppError('BAD_REQUEST', `invalid digest in from: ${from.slice(0, 300)}`);
    } else {
      const colon = from.lastIndexOf(':');
      if (colon <= from.lastIndexOf('/'))
        throw new AppError('BAD_REQUEST', 'from must be <project>/<repository>:<tag> or @<digest>');
      name = from.slice(0, colon);
      reference = from.slice(colon + 1);
    }
    if (!name.includes('/')) throw new AppError('BAD_REQUEST', 'from must name a project and a repository');
    const repository = await this.deps.store.repositories.findByName(name);
    if (!repository) throw new AppError('NOT_FOUND', `repository ${name} not found`);
    const artifact = isDigestString(reference)
      ? await this.deps.store.artifacts.findByDigest(repository.id, reference)
      : await this.deps.store.artifacts.findByTag(repository.id, reference);
    if (!artifact) throw new AppError('NOT_FOUND', `artifact ${from.slice(0, 300)} not found`);
    return { projectName: splitRepositoryName(name).project, repository, artifact };
  }

  /**
   * Harbor's CopyArtifact: finds the source `from` names, lets `mayRead` refuse the caller its project,
   * then copies into `repository` (without the project) of `project`; returns the digest.
   */
  async copyArtifact(
    ctx: RequestContext,
    from: string,
    into: { project: ProjectRow; repository: string },
    mayRead: (sourceProject: string) => Promise<void>,
  ): Promise<string> {
    const source = await this.source(from);
    await mayRead(source.projectName);
    return this.copy(ctx, source, into.project, `${into.project.name}/${into.repository}`);
  }

  /** Copies into `target` (full repository name) of `project`; returns the digest. */
  async copy(ctx: RequestContext, source: CopySource, project: ProjectRow, target: string): Promise<string> {
    if (source.repository.name === target)
      throw new AppError('BAD_REQUEST', 'source and target repository are the same');
    await this.copyOne(ctx, source.repository, source.artifact, project, target, 0);
    return source.artifact.digest;
  }

  /** PRECONDITION before anything is written when the copy would move a protected tag of `target`. */
  private async refuseProtectedMoves(
    project: ProjectRow,
    target: string,
    digest: string,
    tags: string[],
  ): Promise<void> {
    const dest = tags.length > 0 && (await this.deps.store.repositories.findByName(target));
    if (!dest) return;
    const holders = await this.deps.store.tags.holders(dest.id, tags);
    if (holders.size === 0) return;
    const same = await this.deps.store.artifacts.findByDigest(dest.id, digest);
    const moved = [...holders].filter(([, artifactId]) => artifactId !== same?.id).map(([name]) => name);
    await this.deps.immutability.assertUnprotected('update', project.id, target, moved);
  }

  private async copyOne(
    ctx: RequestContext,
    srcRepo: RepositoryRow,
    artifact: ArtifactRow,
    project: ProjectRow,
    target: string,
    depth: number,
  ): Promise<void> {
    if (depth > 8) throw new AppError('BAD_REQUEST', 'artifact references nest too deep to copy');
    const catalog = this.deps.store.artifactCatalog;
    for (const ref of (await catalog.referencesOf([artifact.id])).get(artifact.id) ?? []) {
      const child = await this.deps.store.artifacts.findByDigest(srcRepo.id, ref.child_digest);
      if (child) await this.copyOne(ctx, srcRepo, child, project, target, depth + 1);
    }
    const tags = ((await catalog.tagsOf([artifact.id])).get(artifact.id) ?? []).map((t) => t.name);
    await this.refuseProtectedMoves(project, target, artifact.digest, tags);
    const now = this.deps.clock.now().toISOString();
    // The target project gains the blobs it lacks, all or none, charged to its quota.
    const blobs = await catalog.blobsOf(artifact.id);
    await this.deps.quota.precheck(ctx, project, target, blobs);
    await this.deps.store.transaction((tx) => this.deps.quota.link(ctx, tx, project, target, blobs));
    const body = await this.deps.storage.getContent(layout.blob(artifact.digest));
    // The copy is audited once, as the API call it is (http/audit-hook.ts), not as the pushes it makes.
    const unaudited = ctx.actor ? { ...ctx, actor: { ...ctx.actor, audited: false as const } } : ctx;
    await this.deps.manifests.put(unaudited, target, artifact.digest, body, artifact.media_type);
    const dest = await this.deps.store.repositories.findByName(target);
    const copied = dest && (await this.deps.store.artifacts.findByDigest(dest.id, artifact.digest));
    if (!dest || !copied) throw new AppError('INTERNAL_SERVER_ERROR', 'copied artifact is missing');
    for (const tag of tags) await this.deps.store.tags.put(dest.id, tag, copied.id, now);
    for (const acc of (await catalog.accessoriesOf(srcRepo.id, [artifact.digest])).get(artifact.digest) ??
      []) {
      await this.copyOne(ctx, srcRepo, acc, project, target, depth + 1);
    }
  }
}
