import { ContentBoundError, defaultMaxJsonDepth, parseBoundedJson } from '../lib/bounded-json.js';
import { AppError } from '../lib/errors.js';
import { isDigestString, parseDigest } from './digest.js';
import { isNonDistributable, manifestKind, mediaTypes, type ManifestKind } from './media-types.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: Record<string, unknown>;
  urls?: string[];
}

export interface ParsedManifest {
  kind: ManifestKind;
  mediaType: string;
  /** `artifactType`, else (image manifests) the config's media type: the OCI referrers rule. */
  artifactType: string | null;
  config: Descriptor | null;
  /** Blobs this manifest needs in the repository (config + distributable layers). */
  blobs: Descriptor[];
  /** Child manifests of an index. */
  manifests: Descriptor[];
  subject: Descriptor | null;
  annotations: Record<string, string>;
}

export const maxManifestBytes = 4 * 1024 * 1024;
/** Real manifests nest 5 levels at most (index → manifests → descriptor → platform → features). */
export const maxManifestDepth = defaultMaxJsonDepth;

/**
 * Parses and validates manifest bytes. `contentType` is the request's Content-Type; when absent, the
 * manifest's own `mediaType` field decides. Throws MANIFEST_INVALID with a message naming the problem.
 */
export function parseManifest(bytes: Buffer, contentType: string | undefined): ParsedManifest {
  if (bytes.length > maxManifestBytes) {
    throw new AppError('PAYLOAD_TOO_LARGE', `manifest exceeds ${maxManifestBytes} bytes`);
  }
  let doc: unknown;
  try {
    doc = parseBoundedJson(bytes, { maxDepth: maxManifestDepth });
  } catch (err) {
    const bound = err instanceof ContentBoundError ? err.bound : 'syntax';
    throw new AppError(
      'MANIFEST_INVALID',
      bound === 'depth'
        ? `manifest nests deeper than ${maxManifestDepth} levels`
        : `manifest is ${(err as Error).message}`,
    );
  }
  if (!isObject(doc)) throw new AppError('MANIFEST_INVALID', 'manifest must be a JSON object');

  const declared = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  const header = normalizeContentType(contentType);
  let mediaType = header ?? declared;
  if (header && declared && header !== declared) {
    throw new AppError('MANIFEST_INVALID', `Content-Type "${header}" does not match mediaType "${declared}"`);
  }
  if (!mediaType) mediaType = 'manifests' in doc ? mediaTypes.ociIndex : mediaTypes.ociManifest;
  if (mediaType === mediaTypes.dockerSchema1 || mediaType === mediaTypes.dockerSchema1Signed) {
    throw new AppError(
      'MANIFEST_INVALID',
      'Docker schema 1 manifests are not supported; push schema 2 or OCI',
    );
  }
  const kind = manifestKind(mediaType);
  if (!kind) throw new AppError('MANIFEST_INVALID', `unsupported manifest media type "${mediaType}"`);
  if (doc.schemaVersion !== 2) throw new AppError('MANIFEST_INVALID', 'schemaVersion must be 2');

  const subject = doc.subject === undefined ? null : descriptor(doc.subject, 'subject');
  const annotations = stringMap(doc.annotations, 'annotations');
  const artifactTypeField = optionalString(doc.artifactType, 'artifactType');

  if (kind === 'image') {
    if (doc.manifests !== undefined) throw new AppError('MANIFEST_INVALID', 'image manifest has "manifests"');
    const config = descriptor(doc.config, 'config');
    if (!Array.isArray(doc.layers)) throw new AppError('MANIFEST_INVALID', 'layers must be an array');
    const layers = doc.layers.map((l, i) => descriptor(l, `layers[${i}]`));
    const distributable = layers.filter((l) => !(isNonDistributable(l.mediaType) && l.urls?.length));
    return {
      kind,
      mediaType,
      artifactType: artifactTypeField ?? config.mediaType,
      config,
      blobs: [config, ...distributable],
      manifests: [],
      subject,
      annotations,
    };
  }
  if (!Array.isArray(doc.manifests)) throw new AppError('MANIFEST_INVALID', 'manifests must be an array');
  if (doc.layers !== undefined) throw new AppError('MANIFEST_INVALID', 'index has "layers"');
  const manifests = doc.manifests.map((m, i) => descriptor(m, `manifests[${i}]`));
  return {
    kind,
    mediaType,
    artifactType: artifactTypeField ?? null,
    config: null,
    blobs: [],
    manifests,
    subject,
    annotations,
  };
}

function normalizeContentType(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const base = value.split(';')[0]!.trim().toLowerCase();
  // Clients that send a generic type rely on the manifest's own mediaType field.
  if (base === '' || base === 'application/json' || base === 'application/octet-stream') return undefined;
  return base;
}

function descriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw new AppError('MANIFEST_INVALID', `${where} must be a descriptor object`);
  const { mediaType, digest, size } = value;
  if (typeof mediaType !== 'string' || mediaType === '') {
    throw new AppError('MANIFEST_INVALID', `${where}.mediaType must be a string`);
  }
  if (typeof digest !== 'string' || !isDigestString(digest)) {
    throw new AppError('MANIFEST_INVALID', `${where}.digest is not a valid digest`);
  }
  try {
    parseDigest(digest);
  } catch (err) {
    throw new AppError('MANIFEST_INVALID', `${where}.digest: ${(err as Error).message}`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new AppError('MANIFEST_INVALID', `${where}.size must be a non-negative integer`);
  }
  const out: Descriptor = { mediaType, digest, size };
  const artifactType = optionalString(value.artifactType, `${where}.artifactType`);
  if (artifactType) out.artifactType = artifactType;
  if (value.annotations !== undefined) out.annotations = stringMap(value.annotations, `${where}.annotations`);
  if (isObject(value.platform)) out.platform = value.platform;
  if (Array.isArray(value.urls)) out.urls = value.urls.filter((u): u is string => typeof u === 'string');
  return out;
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new AppError('MANIFEST_INVALID', `${where} must be a string`);
  return value;
}

function stringMap(value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new AppError('MANIFEST_INVALID', `${where} must be an object`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new AppError('MANIFEST_INVALID', `${where}.${k} must be a string`);
  }
  return value as Record<string, string>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
