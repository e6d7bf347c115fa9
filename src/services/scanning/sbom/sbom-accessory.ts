import { Readable } from 'node:stream';
import type { MetaStore } from '../../../db/store.js';
import { digestOf } from '../../../oci/digest.js';
import { mediaTypes } from '../../../oci/media-types.js';
import type { RequestContext } from '../../context.js';
import type { ManifestService } from '../../registry/manifest-service.js';
import type { UploadSessions } from '../../registry/upload-sessions.js';

/** Harbor's config media type (and so referrers `artifactType`) of an SBOM accessory. */
export const SBOM_ARTIFACT_TYPE = 'application/vnd.goharbor.harbor.sbom.v1';
/** Harbor stores the SBOM document as the accessory's one layer, untarred, under this media type. */
export const SBOM_LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar';

export interface SbomSubjectDescriptor {
  repository: string;
  digest: string;
  mediaType: string;
  size: number;
}

export interface SbomBlobs {
  manifest: Buffer;
  manifestDigest: string;
  config: Buffer;
  layer: Buffer;
}

/**
 * The accessory Harbor's scan job pushes for an SBOM (pkg/scan GenAccessoryArt): an OCI image manifest whose
 * config has media type `application/vnd.goharbor.harbor.sbom.v1` (an image config with one history entry),
 * whose one layer is the SBOM document itself, whose `subject` is the scanned image, and whose annotations
 * say when and by what it was made. Pure: the same inputs give the same digest.
 */
export function sbomAccessory(
  subject: Omit<SbomSubjectDescriptor, 'repository'>,
  document: Uint8Array,
  created: Date,
  description = 'SPDX JSON SBOM',
): SbomBlobs {
  const layer = Buffer.from(document);
  const layerDigest = digestOf(layer);
  const when = `${created.toISOString().slice(0, 19)}Z`;
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: when,
      history: [{ created: when, author: 'berth', created_by: 'berth' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: [layerDigest] },
      config: {},
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: mediaTypes.ociManifest,
      config: { mediaType: SBOM_ARTIFACT_TYPE, size: config.length, digest: digestOf(config) },
      layers: [{ mediaType: SBOM_LAYER_MEDIA_TYPE, size: layer.length, digest: layerDigest }],
      annotations: {
        created: when,
        'created-by': 'Berth',
        'org.opencontainers.artifact.created': when,
        'org.opencontainers.artifact.description': description,
      },
      subject: { mediaType: subject.mediaType, size: subject.size, digest: subject.digest },
    }),
  );
  return { manifest, manifestDigest: digestOf(manifest), config, layer };
}

/**
 * Pushes an SBOM accessory into the scanned image's repository through the registry's own services (so
 * it is validated, counted against quota and raises ArtifactPushed like a client's push), then deletes the
 * image's older SBOM accessories, as Harbor replaces the previous SBOM when it generates a new one.
 * The scan job calls it with the document a scanner returned and records the digest it answers.
 */
export class SbomAccessoryWriter {
  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'artifacts' | 'repositories'>;
      manifests: ManifestService;
      uploads: UploadSessions;
      clock: { now(): Date };
    },
  ) {}

  async write(ctx: RequestContext, subject: SbomSubjectDescriptor, document: Uint8Array): Promise<string> {
    const blobs = sbomAccessory(subject, document, this.deps.clock.now());
    for (const blob of [blobs.config, blobs.layer]) {
      await this.deps.uploads.putMonolithic(
        ctx,
        subject.repository,
        digestOf(blob),
        Readable.from([blob]),
        blob.length,
      );
    }
    await this.deps.manifests.put(
      ctx,
      subject.repository,
      blobs.manifestDigest,
      blobs.manifest,
      mediaTypes.ociManifest,
    );
    for (const old of await this.previous(subject)) {
      if (old !== blobs.manifestDigest) await this.deps.manifests.delete(ctx, subject.repository, old);
    }
    return blobs.manifestDigest;
  }

  /** `write` for the scanned manifest `digest` of `repository` (the scan job's SbomSink). */
  async writeFor(ctx: RequestContext, repository: string, digest: string, document: Uint8Array) {
    const repo = await this.deps.store.repositories.findByName(repository);
    const row = repo && (await this.deps.store.artifacts.findByDigest(repo.id, digest));
    if (!row) throw new Error(`${repository}@${digest} is gone: no SBOM accessory is stored for it`);
    const subject = { repository, digest, mediaType: row.media_type, size: Number(row.manifest_size) };
    return this.write(ctx, subject, document);
  }

  /** The image's SBOM accessories (digests) in its repository. */
  async previous(subject: Pick<SbomSubjectDescriptor, 'repository' | 'digest'>): Promise<string[]> {
    const repo = await this.deps.store.repositories.findByName(subject.repository);
    if (!repo) return [];
    const rows = await this.deps.store.artifacts.referrers(repo.id, subject.digest, SBOM_ARTIFACT_TYPE);
    return rows.map((r) => r.digest);
  }
}
