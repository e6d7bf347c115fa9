import { LRUCache } from 'lru-cache';
import type { ChildLink } from '../../db/repos/artifacts.js';
import type { MetaStore } from '../../db/store.js';
import type { ArtifactRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { digestOf, isDigestString, parseDigest } from '../../oci/digest.js';
import { mediaTypes } from '../../oci/media-types.js';
import { parseManifest } from '../../oci/manifest.js';
import { assertTag, isTag } from '../../oci/names.js';
import type { StorageDriver } from '../../storage/driver.js';
import { layout } from '../../storage/layout.js';
import type { RequestContext } from '../context.js';
import type { EventBus } from '../events.js';
import type { TagProtection } from '../policies/immutability/immutability-service.js';
import { immutableTagError } from '../policies/immutability/immutable-tag-matcher.js';
import type { QuotaService } from '../policies/quota/quota-service.js';
import type { BlobWriteGuard } from '../gc/blob-write-guard.js';
import type { Namespaces } from './namespaces.js';
import type { PullRecorder } from './pull-recorder.js';

export interface ManifestInfo {
  digest: string;
  mediaType: string;
  size: number;
}

export interface PushedManifest {
  digest: string;
  subject: string | null;
  artifactId: number;
  repositoryId: number;
}

export interface PutOptions {
  /**
   * A proxy cache records an index before its children (it holds only the platforms clients pulled):
   * the children it lacks are left out instead of refusing the index.
   */
  partialIndex?: boolean;
}

/** What a cached manifest costs beyond its bytes: its digest key, its Buffer object and the cache's entry. */
const manifestCacheEntryOverhead = 256;

/** Manifest push/pull/delete, tags, referrers and the catalog. */
export class ManifestService {
  /**
   * Manifest bytes by digest: content-addressed, so safe to cache on every node. Up to
   * `registry.manifestCacheMb` (4 MiB by default). With 64 MiB, the bench's ~20,000 manifest PUTs stayed
   * in memory (bytes, keys and objects) for the process's life, under what later rows used: its rows
   * process peaked at 200.8 MiB, 171.0 with 4 (issue 15, docs/scale-out.md "Memory"). A pull's working
   * set is a few manifests per image.
   */
  private readonly bytes: LRUCache<string, Buffer> | undefined;

  constructor(
    private readonly deps: {
      store: Pick<
        MetaStore,
        'artifactCatalog' | 'artifacts' | 'blobs' | 'repositories' | 'tags' | 'transaction'
      >;
      storage: StorageDriver;
      namespaces: Namespaces;
      events: EventBus;
      pulls: PullRecorder;
      clock: Clock;
      immutability: TagProtection;
      quota: QuotaService;
      writes: BlobWriteGuard;
      /** Bytes of manifests kept in memory (0: none): `registry.manifestCacheMb`. */
      cacheBytes: number;
    },
  ) {
    const maxSize = Math.floor(deps.cacheBytes);
    if (maxSize > 0)
      this.bytes = new LRUCache<string, Buffer>({
        maxSize,
        sizeCalculation: (b) => b.length + manifestCacheEntryOverhead,
      });
  }

  /** Bytes the manifest cache holds by its own weighing (entries' sizes plus their overhead). */
  get cachedBytes(): number {
    return this.bytes?.calculatedSize ?? 0;
  }

  async put(
    ctx: RequestContext,
    repository: string,
    reference: string,
    body: Buffer,
    contentType: string | undefined,
    options: PutOptions = {},
  ): Promise<PushedManifest> {
    const byDigest = isDigestString(reference);
    const algorithm = byDigest ? parseDigest(reference).algorithm : 'sha256';
    if (!byDigest) assertTag(reference);
    const manifest = parseManifest(body, contentType);
    const digest = digestOf(body, algorithm);
    if (byDigest && digest !== reference) {
      throw new AppError('DIGEST_INVALID', `manifest digest ${digest} does not match reference ${reference}`);
    }
    const project = await this.deps.namespaces.projectForPush(repository);
    const rules = byDigest ? undefined : await this.deps.immutability.matcher(project.id);
    // Every reference is checked before a byte is written: a refused manifest leaves nothing in storage.
    const missingBlobs = await this.deps.store.blobs.missingInProject(
      project.id,
      manifest.blobs.map((b) => b.digest),
    );
    if (missingBlobs.length > 0) throw blobUnknown(missingBlobs[0]!);
    const wanted = manifest.manifests.map((m) => m.digest);
    if (wanted.length > 0) {
      const repo = await this.deps.store.repositories.findByName(repository);
      const missing = repo ? await this.deps.store.artifacts.missing(repo.id, wanted) : wanted;
      if (missing.length > 0 && !options.partialIndex) throw blobUnknown(missing[0]!);
    }
    const self = [{ digest, size: body.length }];
    await this.deps.quota.precheck(ctx, project, repository, self);
    // Bytes next (atomic, by digest, reserved against garbage collection: docs/gc.md); the rows that make
    // them visible are written in one transaction, which checks the children again (a concurrent delete
    // loses its bytes to GC, not to a dangling row). The file is whole at its path before that transaction
    // begins; its flush to the disk runs meanwhile, and the PUT is answered after both (docs/storage.md).
    await this.deps.writes.reserve(digest, body.length, true);
    const { durable } = await this.deps.storage.stageContent(layout.blob(digest), body);
    const flushed = durable.then(
      () => undefined,
      (err: unknown) => err,
    );
    this.bytes?.set(digest, body);
    const now = this.deps.clock.now().toISOString();
    const artifact = await this.deps.store.transaction(async (tx) => {
      const repo = await tx.repositories.ensure(project.id, repository, now);
      let children: ChildLink[] = [];
      let childSize = 0;
      if (wanted.length > 0) {
        const missing = await tx.artifacts.missing(repo.id, wanted);
        if (missing.length > 0 && !options.partialIndex) throw blobUnknown(missing[0]!);
        children = await Promise.all(
          manifest.manifests
            .filter((m) => !missing.includes(m.digest))
            .map(async (m) => {
              const child = (await tx.artifacts.findByDigest(repo.id, m.digest))!;
              childSize += child.size;
              return {
                childId: child.id,
                childDigest: m.digest,
                platform: m.platform ? JSON.stringify(m.platform) : null,
              };
            }),
        );
      }
      await this.deps.quota.link(ctx, tx, project, repository, self);
      // Every blob referenced must still be live, and is fenced against a collector that examined it. The
      // reference is timed after the links above (they touched the manifest blob), so once the artifact is
      // deleted its blobs are garbage at once.
      const gone = await tx.blobs.reference(
        project.id,
        [digest, ...manifest.blobs.map((b) => b.digest)],
        this.deps.clock.now().toISOString(),
      );
      if (gone.length > 0) {
        throw new AppError('MANIFEST_BLOB_UNKNOWN', `blob unknown to registry: ${gone[0]}`, {
          digest: gone[0],
        });
      }
      const row = await tx.artifacts.ensure(
        {
          repository_id: repo.id,
          digest,
          media_type: manifest.mediaType,
          artifact_type: manifest.artifactType,
          manifest_size: body.length,
          size: body.length + childSize + manifest.blobs.reduce((n, b) => n + b.size, 0),
          subject_digest: manifest.subject?.digest ?? null,
          config_digest: manifest.config?.digest ?? null,
          annotations: Object.keys(manifest.annotations).length ? JSON.stringify(manifest.annotations) : null,
          push_time: now,
          pull_time: null,
        },
        [digest, ...manifest.blobs.map((b) => b.digest)],
        children,
      );
      if (rules?.protects(repository, reference)) {
        // A protected tag is only ever created: it may not move to another artifact. Re-pushing the
        // digest it holds is accepted (Harbor refuses that too), so a retried CI push does not fail.
        if ((await tx.tags.claim(repo.id, reference, row.id, now)) !== row.id)
          throw immutableTagError('push', repository, reference);
      } else if (!byDigest) await tx.tags.put(repo.id, reference, row.id, now);
      // Jobs that follow the push (event-based replication, …) commit with it or not at all.
      await this.deps.events.publish(tx, 'ArtifactPushed', {
        repository,
        digest,
        tag: byDigest ? null : reference,
        mediaType: row.media_type,
        size: row.size,
        actor: ctx.actor,
        repositoryCreated: repo.creation_time,
      });
      return { row, repositoryId: repo.id };
    });
    this.deps.events.emit('ArtifactPushed', {
      repository,
      digest,
      tag: byDigest ? null : reference,
      mediaType: artifact.row.media_type,
      size: artifact.row.size,
      actor: ctx.actor,
    });
    const flushError = await flushed;
    if (flushError) throw flushError;
    return {
      digest,
      subject: manifest.subject?.digest ?? null,
      artifactId: artifact.row.id,
      repositoryId: artifact.repositoryId,
    };
  }

  /** Resolves a tag or digest; by tag, `accept` (when given) must include the manifest's media type. */
  async head(
    _ctx: RequestContext,
    repository: string,
    reference: string,
    accept?: string[],
  ): Promise<ManifestInfo> {
    const { artifact } = await this.resolve(repository, reference, accept);
    return { digest: artifact.digest, mediaType: artifact.media_type, size: artifact.manifest_size };
  }

  async get(
    ctx: RequestContext,
    repository: string,
    reference: string,
    accept?: string[],
  ): Promise<ManifestInfo & { body: Buffer }> {
    const { artifact, repositoryId } = await this.resolve(repository, reference, accept);
    let body = this.bytes?.get(artifact.digest);
    if (!body) {
      body = await this.deps.storage.getContent(layout.blob(artifact.digest)).catch((err: unknown) => {
        ctx.log.error(
          { err, digest: artifact.digest },
          'manifest recorded in the database is missing from storage',
        );
        throw new AppError('MANIFEST_UNKNOWN', `manifest unknown to registry: ${reference}`);
      });
      this.bytes?.set(artifact.digest, body);
    }
    this.deps.pulls.record(repositoryId, artifact.id);
    this.deps.events.emit('ArtifactPulled', {
      repository,
      digest: artifact.digest,
      tag: isDigestString(reference) ? null : reference,
      size: artifact.size,
      actor: ctx.actor,
    });
    return { digest: artifact.digest, mediaType: artifact.media_type, size: artifact.manifest_size, body };
  }

  /** By tag: removes the tag. By digest: removes the artifact and its tags (refused while an index lists it). */
  async delete(ctx: RequestContext, repository: string, reference: string): Promise<void> {
    const repo = await this.deps.namespaces.repository(repository);
    if (!isDigestString(reference)) {
      assertTag(reference);
      await this.deps.immutability.assertUnprotected('delete', repo.project_id, repository, [reference]);
      if (!(await this.deps.store.tags.delete(repo.id, reference))) {
        throw new AppError('MANIFEST_UNKNOWN', `manifest unknown to registry: ${reference}`);
      }
      this.deps.events.emit('TagDeleted', { repository, tag: reference, actor: ctx.actor });
      return;
    }
    parseDigest(reference);
    const artifact = await this.deps.store.artifacts.findByDigest(repo.id, reference);
    if (!artifact) throw new AppError('MANIFEST_UNKNOWN', `manifest unknown to registry: ${reference}`);
    await this.assertDeletable(repository, repo.project_id, artifact);
    const parents = await this.deps.store.artifacts.parents(artifact.id);
    if (parents.length > 0) {
      throw new AppError(
        'DENIED',
        `manifest ${reference} is referenced by index ${parents[0]}; delete the index first`,
      );
    }
    const deleted = {
      repository,
      digest: reference,
      tags: [] as string[],
      actor: ctx.actor,
    };
    await this.deps.store.transaction(async (tx) => {
      const blobIds = await tx.blobs.idsReferencedBy({ artifactId: artifact.id });
      deleted.tags = await tx.tags.namesOf(artifact.id);
      await tx.artifacts.delete(artifact.id);
      // The project's usage drops at once by what no other artifact of it still holds.
      await tx.blobs.releaseUnreferenced(repo.project_id, blobIds);
      await this.deps.events.publish(tx, 'ArtifactDeleted', deleted);
    });
    this.deps.events.emit('ArtifactDeleted', deleted);
  }

  /** PRECONDITION when a tag of the artifact is protected by an immutability rule. */
  async assertDeletable(repository: string, projectId: number, artifact: ArtifactRow): Promise<void> {
    const tags = (await this.deps.store.artifactCatalog.tagsOf([artifact.id])).get(artifact.id) ?? [];
    await this.deps.immutability.assertUnprotected(
      'delete',
      projectId,
      repository,
      tags.map((t) => t.name),
    );
  }

  async listTags(
    _ctx: RequestContext,
    repository: string,
    n: number,
    last?: string,
  ): Promise<{ name: string; tags: string[]; more: boolean }> {
    const repo = await this.deps.namespaces.repository(repository);
    const tags = await this.deps.store.tags.listNames(repo.id, last, n + 1);
    return { name: repository, tags: tags.slice(0, n), more: tags.length > n };
  }

  async catalog(
    _ctx: RequestContext,
    n: number,
    last?: string,
    /** 'all', or the projects (beside public ones) whose repositories the caller may see. */
    visible: 'all' | readonly number[] = 'all',
  ): Promise<{ repositories: string[]; more: boolean }> {
    const names =
      visible === 'all'
        ? await this.deps.store.repositories.listNames(last, n + 1)
        : await this.deps.store.repositories.listVisibleNames(last, n + 1, visible);
    return { repositories: names.slice(0, n), more: names.length > n };
  }

  /** The OCI index of manifests whose subject is `digest`, optionally filtered by artifact type. */
  async referrers(
    _ctx: RequestContext,
    repository: string,
    digest: string,
    artifactType?: string,
  ): Promise<{ index: object; filtered: boolean }> {
    parseDigest(digest);
    const repo = await this.deps.namespaces.repository(repository);
    const rows = await this.deps.store.artifacts.referrers(repo.id, digest, artifactType);
    return {
      index: {
        schemaVersion: 2,
        mediaType: mediaTypes.ociIndex,
        manifests: rows.map((r) => ({
          mediaType: r.media_type,
          digest: r.digest,
          size: r.manifest_size,
          ...(r.artifact_type ? { artifactType: r.artifact_type } : {}),
          ...(r.annotations ? { annotations: JSON.parse(r.annotations) as Record<string, string> } : {}),
        })),
      },
      filtered: artifactType !== undefined,
    };
  }

  private async resolve(
    repository: string,
    reference: string,
    accept: string[] | undefined,
  ): Promise<{ artifact: ArtifactRow; repositoryId: number }> {
    const repo = await this.deps.namespaces.repository(repository).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'NAME_UNKNOWN') {
        throw new AppError('MANIFEST_UNKNOWN', `manifest unknown to registry: ${reference}`);
      }
      throw err;
    });
    const byDigest = isDigestString(reference);
    if (byDigest) parseDigest(reference);
    // A tag that cannot exist is simply not there: 404 MANIFEST_UNKNOWN, as distribution and the OCI conformance
    // suite expect for GET/HEAD (a PUT with such a tag stays 400 TAG_INVALID).
    else if (!isTag(reference))
      throw new AppError('MANIFEST_UNKNOWN', `manifest unknown to registry: ${reference}`);
    const artifact = byDigest
      ? await this.deps.store.artifacts.findByDigest(repo.id, reference)
      : await this.deps.store.artifacts.findByTag(repo.id, reference);
    if (!artifact) throw new AppError('MANIFEST_UNKNOWN', `manifest unknown to registry: ${reference}`);
    if (!byDigest && accept && !acceptable(artifact.media_type, accept)) {
      throw new AppError(
        'MANIFEST_UNKNOWN',
        `manifest ${reference} is ${artifact.media_type}, which the client's Accept header does not list`,
      );
    }
    return { artifact, repositoryId: repo.id };
  }
}

/** What the distribution spec answers for a missing layer, config or child manifest. */
function blobUnknown(digest: string): AppError {
  return new AppError('MANIFEST_BLOB_UNKNOWN', `blob unknown to registry: ${digest}`, { digest });
}

function acceptable(mediaType: string, accept: string[]): boolean {
  if (accept.length === 0) return true;
  return accept.some(
    (a) => a === mediaType || a === '*/*' || a === 'application/*' || a === 'application/json',
  );
}
