import type { MetaStore } from '../../db/store.js';
import type { Log } from '../../lib/logger.js';
import { parseManifest } from '../../oci/manifest.js';
import type { StorageDriver } from '../../storage/driver.js';
import { layout } from '../../storage/layout.js';
import type { RequestContext } from '../context.js';
import type { ManifestService } from '../registry/manifest-service.js';
import type { PullRecorder } from '../registry/pull-recorder.js';
import type { ProxyTarget } from './proxy-projects.js';

/**
 * Turns fetched manifests into artifacts of the proxy project, as soon as they are whole: an image once
 * its last blob is cached (right when the first client's pull completes), an index at once, with the
 * children it lists linked as each of them is recorded (a client pulls one platform, not all).
 * Recording goes through ManifestService like a push, so quota, GC references, retention and listings
 * treat cached artifacts exactly like pushed ones.
 */
export class CachedArtifacts {
  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'proxyCache' | 'blobs' | 'artifacts'>;
      storage: StorageDriver;
      manifests: Pick<ManifestService, 'put'>;
      pulls: Pick<PullRecorder, 'record'>;
      log: Log;
    },
  ) {}

  /** Records the fetched manifest when it is whole; true when it was recorded now. */
  async complete(
    ctx: RequestContext,
    target: ProxyTarget,
    repository: string,
    digest: string,
  ): Promise<boolean> {
    const { store } = this.deps;
    const row = await store.proxyCache.pending(repository, digest);
    if (!row) return false;
    const body = await this.deps.storage.getContent(layout.blob(digest)).catch(() => undefined);
    if (!body) return false;
    const manifest = parseManifest(body, undefined);
    const isIndex = manifest.manifests.length > 0;
    if (!isIndex) {
      const missing = await store.blobs.missingInProject(
        target.project.id,
        manifest.blobs.map((b) => b.digest),
      );
      if (missing.length > 0) return false;
    }
    let pushed;
    try {
      pushed = await this.deps.manifests.put(ctx, repository, row.tag ?? digest, body, manifest.mediaType, {
        partialIndex: true,
      });
    } catch (err) {
      ctx.log.warn({ err, repository, digest }, 'proxy cache: could not record a fetched manifest');
      return false;
    }
    await store.proxyCache.removePending(repository, digest);
    if (isIndex) {
      const absent = new Set(
        await store.artifacts.missing(
          pushed.repositoryId,
          manifest.manifests.map((m) => m.digest),
        ),
      );
      await store.proxyCache.addMissingChildren(
        repository,
        digest,
        manifest.manifests
          .filter((m) => absent.has(m.digest))
          .map((m) => ({ digest: m.digest, platform: m.platform ? JSON.stringify(m.platform) : null })),
      );
    }
    const parents = await store.proxyCache.takeParents(repository, digest);
    if (parents.length > 0) {
      const self = (await store.artifacts.findByDigest(pushed.repositoryId, digest))!;
      for (const p of parents) {
        const parent = await store.artifacts.findByDigest(pushed.repositoryId, p.parent);
        if (parent) await store.proxyCache.addChildLink(parent.id, self, p.platform);
      }
    }
    this.deps.pulls.record(pushed.repositoryId, pushed.artifactId);
    return true;
  }

  /** After a blob landed: records the repository's fetched manifests that it completed. */
  async blobCached(ctx: RequestContext, target: ProxyTarget, repository: string): Promise<void> {
    for (const row of await this.deps.store.proxyCache.pendingIn(repository))
      await this.complete(ctx, target, repository, row.digest);
  }
}
