import { AppError } from '../../lib/errors.js';
import { parseManifest } from '../../oci/manifest.js';
import { checkDigest, DigestMismatchError, type ArchiveReader } from './archive.js';
import {
  blobPath,
  blobsLink,
  exportManifestSchema,
  manifestPath,
  repositoryDir,
  type ExportManifest,
} from './export-format.js';
import { ProgressCounter, type ProgressSink } from './progress.js';

export interface VerifyResult {
  manifest: ExportManifest;
  /** Empty when the archive is whole; each names the file or digest at fault. */
  problems: string[];
}

/**
 * Checks an export without trusting it: the manifest parses, every blob it lists is there and hashes to
 * its digest with its size, every artifact's manifest names only blobs and child manifests the archive
 * holds, and each repository's OCI layout lists its tags. Throws BAD_REQUEST when the export manifest
 * itself is missing or unreadable.
 */
export async function verifyArchive(reader: ArchiveReader, progress: ProgressSink): Promise<VerifyResult> {
  const text = await reader.readText(manifestPath);
  if (text === undefined)
    throw new AppError('BAD_REQUEST', `${manifestPath} is missing: not a Berth export, or an unfinished one`);
  let manifest: ExportManifest;
  try {
    manifest = exportManifestSchema.parse(JSON.parse(text));
  } catch (err) {
    throw new AppError(
      'BAD_REQUEST',
      `${manifestPath} is not a Berth export manifest: ${(err as Error).message}`,
    );
  }
  const problems: string[] = [];
  const sizes = new Map(manifest.blobs.map((b) => [b.digest, b.size]));
  const counter = new ProgressCounter('verify', manifest.blobs, progress);
  for (const blob of manifest.blobs) {
    const path = blobPath(blob.digest);
    const size = await reader.size(path);
    if (size === undefined) problems.push(`blob ${blob.digest} is missing (${path})`);
    else
      await checkDigest(await reader.read(path), blob.digest, blob.size, path).catch((err: unknown) => {
        if (!(err instanceof DigestMismatchError)) throw err;
        problems.push(err.message);
      });
    counter.step(blob.digest, blob.size);
  }
  if (problems.length > 0) return { manifest, problems };

  for (const repo of manifest.repositories) {
    const digests = new Set(repo.artifacts.map((a) => a.digest));
    for (const a of repo.artifacts) {
      if (!sizes.has(a.digest)) {
        problems.push(`${repo.name}@${a.digest}: its manifest is not a blob of the archive`);
        continue;
      }
      const parsed = parseManifest(
        Buffer.from((await reader.readText(blobPath(a.digest)))!, 'utf8'),
        a.mediaType,
      );
      for (const b of parsed.blobs)
        if (!sizes.has(b.digest))
          problems.push(`${repo.name}@${a.digest} needs blob ${b.digest}, not in the archive`);
      for (const m of parsed.manifests)
        if (!digests.has(m.digest))
          problems.push(`${repo.name}@${a.digest} needs manifest ${m.digest}, not in the archive`);
    }
    const dir = repositoryDir(repo.name);
    if ((await reader.link(`${dir}/blobs`)) !== blobsLink(repo.name))
      problems.push(`${dir}/blobs is not the link to the archive's blobs`);
    const index = await reader.readText(`${dir}/index.json`);
    const tagged = index
      ? ((JSON.parse(index) as { manifests?: { digest: string; annotations?: Record<string, string> }[] })
          .manifests ?? [])
      : [];
    const listed = new Set(
      tagged.map((m) => `${m.annotations?.['org.opencontainers.image.ref.name'] ?? ''}@${m.digest}`),
    );
    for (const a of repo.artifacts)
      for (const tag of a.tags)
        if (!listed.has(`${tag}@${a.digest}`))
          problems.push(`${dir}/index.json does not list ${repo.name}:${tag}`);
  }
  return { manifest, problems };
}
