import { gunzipSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import type { ArtifactRow } from '../../db/tables.js';
import { AppError } from '../../lib/errors.js';
import type { StorageDriver } from '../../storage/driver.js';
import { layout } from '../../storage/layout.js';
import { artifactTypeOf } from './artifact-type.js';

const chartLayer = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
const maxChartBytes = 16 * 1024 * 1024;

export interface Addition {
  contentType: string;
  body: string;
}

/** The additions Harbor links for an artifact of this type. */
export function additionNames(row: ArtifactRow): string[] {
  const type = artifactTypeOf(row.media_type, row.artifact_type);
  if (type === 'CHART') return ['values.yaml', 'readme.md', 'dependencies'];
  if (type === 'IMAGE' && row.config_digest) return ['build_history', 'vulnerabilities'];
  return [];
}

/**
 * Harbor's artifact additions: `build_history` from the image config's history, and for Helm charts the
 * chart's `readme.md`, `values.yaml` and `dependencies` (from Chart.yaml or requirements.yaml).
 */
export async function readAddition(
  storage: StorageDriver,
  row: ArtifactRow,
  config: Record<string, unknown> | undefined,
  name: string,
): Promise<Addition> {
  const type = artifactTypeOf(row.media_type, row.artifact_type);
  if (name === 'build_history' && type === 'IMAGE' && config) {
    const history = Array.isArray(config.history) ? config.history : [];
    return { contentType: 'application/json', body: JSON.stringify(history) };
  }
  if (type === 'CHART' && ['values.yaml', 'readme.md', 'dependencies'].includes(name)) {
    const files = await chartFiles(storage, row);
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
  throw notFound(name);
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

/** The top-level files of the chart archive (`<chart>/README.md` → `README.md`). */
async function chartFiles(storage: StorageDriver, row: ArtifactRow): Promise<Map<string, string>> {
  const manifest = JSON.parse((await storage.getContent(layout.blob(row.digest))).toString('utf8')) as {
    layers?: { mediaType?: string; digest?: string; size?: number }[];
  };
  const layer = manifest.layers?.find((l) => l.mediaType === chartLayer);
  if (!layer?.digest || (layer.size ?? 0) > maxChartBytes) return new Map();
  const tar = gunzipSync(await storage.getContent(layout.blob(layer.digest)), {
    maxOutputLength: 64 * 1024 * 1024,
  });
  return topLevelFiles(tar, new Set(['README.md', 'values.yaml', 'Chart.yaml', 'requirements.yaml']));
}

/** A minimal ustar reader: regular files one directory deep whose base name is wanted. */
export function topLevelFiles(tar: Buffer, wanted: Set<string>): Map<string, string> {
  const out = new Map<string, string>();
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, len: number) =>
      header
        .subarray(start, start + len)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 0);
    const prefix = field(345, 155);
    let name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = undefined;
    const body = tar.subarray(offset + 512, offset + 512 + size);
    if (type === 'L') longName = body.toString('utf8').replace(/\0.*$/s, '');
    else if (type === 'x') {
      const path = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
      if (path) longName = path[1];
    } else if (type === '0' || type === '\0') {
      name = name.replace(/^\.\//, '');
      const parts = name.split('/');
      if (parts.length === 2 && wanted.has(parts[1]!) && !out.has(parts[1]!))
        out.set(parts[1]!, body.toString('utf8'));
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}
