import { parseYaml } from '../../lib/yaml.js';
import type { ArtifactRow } from '../../db/tables.js';
import { ContentBoundError, tryParseJsonObject } from '../../lib/bounded-json.js';
import { gunzipBounded } from '../../lib/bounded-gunzip.js';
import { AppError } from '../../lib/errors.js';
import { readTarFiles } from '../../lib/tar-reader.js';
import { maxManifestBytes } from '../../oci/manifest.js';
import type { StorageDriver } from '../../storage/driver.js';
import { layout } from '../../storage/layout.js';
import { SBOM_ARTIFACT_TYPE } from '../scanning/sbom/sbom-accessory.js';
import { artifactTypeOf } from './artifact-type.js';

/** The largest SBOM document the addition returns (a large image's SPDX document is a few MiB). */
const maxSbomBytes = 64 * 1024 * 1024;
const chartLayer = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
/** Helm's own loader allows 100 MiB decompressed and 5 MiB per file; real charts are well under 1 MiB. */
const chartBounds = {
  maxChartBytes: 16 * 1024 * 1024,
  maxOutputBytes: 32 * 1024 * 1024,
  maxFileBytes: 5 * 1024 * 1024,
  maxEntries: 10_000,
  timeoutMs: 10_000,
};

export interface Addition {
  contentType: string;
  body: string;
}

/** What the additions are made from, read (and cached) by the caller only when the addition needs it. */
export interface AdditionSources {
  config(): Promise<Record<string, unknown> | undefined>;
  /** The chart's top-level files; undefined when the chart cannot be read. */
  chart(): Promise<Map<string, string> | undefined>;
  /** An SBOM accessory's document (its one layer); undefined when it has not exactly one layer. */
  sbom(): Promise<string | undefined>;
}

/** The additions Harbor links for an artifact of this type. */
export function additionNames(row: ArtifactRow): string[] {
  const type = artifactTypeOf(row.media_type, row.artifact_type);
  if (type === 'CHART') return ['values.yaml', 'readme.md', 'dependencies'];
  if (type === 'IMAGE' && row.config_digest) return ['build_history', 'vulnerabilities'];
  if (row.artifact_type === SBOM_ARTIFACT_TYPE) return ['sbom'];
  return [];
}

/**
 * Harbor's artifact additions: `build_history` from the image config's history, and for Helm charts the
 * chart's `readme.md`, `values.yaml` and `dependencies` (from Chart.yaml or requirements.yaml), and for an
 * SBOM accessory its `sbom` document.
 */
export async function readAddition(
  row: ArtifactRow,
  sources: AdditionSources,
  name: string,
): Promise<Addition> {
  const type = artifactTypeOf(row.media_type, row.artifact_type);
  const config = name === 'build_history' && type === 'IMAGE' ? await sources.config() : undefined;
  if (config) {
    const history = Array.isArray(config.history) ? config.history : [];
    return { contentType: 'application/json', body: JSON.stringify(history) };
  }
  if (type === 'CHART' && ['values.yaml', 'readme.md', 'dependencies'].includes(name)) {
    const files = await sources.chart();
    if (!files) throw notFound(name);
    if (name === 'readme.md') {
      const readme = files.get('README.md');
      if (readme === undefined) throw notFound(name);
      return { contentType: 'text/markdown; charset=utf-8', body: readme };
    }
    if (name === 'values.yaml') {
      const values = files.get('values.yaml');
      if (values === undefined) throw notFound(name);
      return { contentType: 'text/plain; charset=utf-8', body: values };
    }
    return { contentType: 'application/json', body: JSON.stringify(dependencies(files)) };
  }
  if (name === 'sbom' && row.artifact_type === SBOM_ARTIFACT_TYPE) {
    const document = await sources.sbom();
    // Harbor's words when the accessory is not the one-layer form it pushes.
    if (document === undefined) throw new AppError('NOT_FOUND', 'The sbom is not found');
    return { contentType: SBOM_ARTIFACT_TYPE, body: document };
  }
  throw notFound(name);
}

/** The SBOM accessory's one layer, read whole (bounded): Harbor's SBOM addition returns it as it is. */
export async function readSbomDocument(
  storage: StorageDriver,
  row: ArtifactRow,
): Promise<string | undefined> {
  const layers = await manifestLayers(storage, row);
  const layer = layers[0] as { digest?: unknown; size?: unknown } | undefined;
  if (layers.length !== 1 || typeof layer?.digest !== 'string') return undefined;
  if (typeof layer.size !== 'number' || layer.size > maxSbomBytes) return undefined;
  return (await storage.getContent(layout.blob(layer.digest))).toString('utf8');
}

async function manifestLayers(storage: StorageDriver, row: ArtifactRow): Promise<unknown[]> {
  const manifest = tryParseJsonObject(await storage.getContent(layout.blob(row.digest)), {
    maxBytes: maxManifestBytes,
  });
  return Array.isArray(manifest?.layers) ? (manifest.layers as unknown[]) : [];
}

function notFound(name: string): AppError {
  return new AppError('NOT_FOUND', `addition ${name} not found for this artifact`);
}

function dependencies(files: Map<string, string>): unknown[] {
  for (const file of ['Chart.yaml', 'requirements.yaml']) {
    const text = files.get(file);
    if (text === undefined) continue;
    try {
      const doc = parseYaml(text) as { dependencies?: unknown };
      if (Array.isArray(doc?.dependencies) && doc.dependencies.length > 0) return doc.dependencies;
    } catch {
      // a malformed file has no dependencies we can show
    }
  }
  return [];
}

/**
 * The top-level files of the chart archive (`<chart>/README.md` → `README.md`), read as a stream within
 * bounds; undefined when the chart cannot be read (not gzip, not tar, a bomb, too slow), which the
 * additions answer as not found.
 */
export async function readChartFiles(
  storage: StorageDriver,
  row: ArtifactRow,
): Promise<Map<string, string> | undefined> {
  const layers = await manifestLayers(storage, row);
  const layer = layers.find(
    (l): l is { digest: string; size?: unknown } =>
      typeof l === 'object' &&
      l !== null &&
      (l as { mediaType?: unknown }).mediaType === chartLayer &&
      typeof (l as { digest?: unknown }).digest === 'string',
  );
  if (!layer || typeof layer.size !== 'number' || layer.size > chartBounds.maxChartBytes) return undefined;
  const wanted = new Set(['README.md', 'values.yaml', 'Chart.yaml', 'requirements.yaml']);
  const baseName = (path: string) => {
    const parts = path.replace(/^\.\//, '').split('/');
    return parts.length === 2 && wanted.has(parts[1]!) ? parts[1]! : undefined;
  };
  try {
    const source = await storage.read(layout.blob(layer.digest));
    const files = await readTarFiles(
      gunzipBounded(source, chartBounds),
      (name) => baseName(name) !== undefined,
      chartBounds,
      (kept) => new Set([...kept.keys()].map(baseName)).size === wanted.size,
    );
    const out = new Map<string, string>();
    for (const [path, bytes] of files) {
      const name = baseName(path)!;
      if (!out.has(name)) out.set(name, bytes.toString('utf8'));
    }
    return out;
  } catch (err) {
    if (err instanceof ContentBoundError) return undefined;
    throw err;
  }
}
