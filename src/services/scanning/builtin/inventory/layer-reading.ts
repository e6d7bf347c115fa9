import { gunzipBounded } from '../../../../lib/bounded-gunzip.js';
import { readTarEntries } from '../../../../lib/tar-reader.js';
import { analyzerFor, type AnalyzerLimits, type Finding } from './analyzers.js';
import type { FoundPackage } from './package.js';
import { TooLarge } from './package.js';
import type { Readable } from 'node:stream';

/** A layer of the image, lowest first; `open()` streams its (compressed) bytes from storage. */
export interface ImageLayer {
  digest: string;
  mediaType: string;
  open(): Promise<Readable>;
}

export interface InventoryLimits extends AnalyzerLimits {
  /** Decompressed bytes allowed per layer. */
  maxLayerBytes: number;
  /** Wall-clock budget per layer. */
  layerTimeoutMs: number;
  /** Tar entries allowed per layer. */
  maxEntries: number;
}

/**
 * What one layer contributes to an image's inventory, before the layers are applied in order: the
 * findings of the files the analyzers read (by path, in tar order; a file that yielded nothing is kept,
 * as it still hides the same path below), the whiteouts and opaque markers, and the notes.
 */
export interface LayerReading {
  found: Map<string, Finding>;
  removed: string[];
  opaque: string[];
  notes: string[];
  /** False when an analyzer failed with a system error (which may not recur): not kept for later scans. */
  keep: boolean;
}

/**
 * Bump when what a reading holds, or how a layer is read, changes (an analyzer added or fixed, a path
 * rule, the tar walk): stored readings of another version are read again.
 */
export const READING_VERSION = 1;

export type Compression = 'gzip' | 'none' | 'unsupported';

export function compressionOf(mediaType: string): Compression {
  if (/gzip$/.test(mediaType)) return 'gzip';
  if (/\.tar$|tar$/.test(mediaType)) return 'none';
  return 'unsupported';
}

/** The key a stored reading must carry to be used: code version, compression, and the limits that shape it. */
export function readingVersion(compression: Compression, limits: InventoryLimits): string {
  return `r${READING_VERSION};${compression};${limits.maxFileBytes};${limits.maxRpmDbBytes};${limits.maxLayerBytes};${limits.maxEntries}`;
}

/** Streams one layer through gunzip and the tar walker (nothing touches the disk) and reads its files. */
export async function readLayer(
  layer: ImageLayer,
  compression: 'gzip' | 'none',
  limits: InventoryLimits,
): Promise<LayerReading> {
  const reading: LayerReading = { found: new Map(), removed: [], opaque: [], notes: [], keep: true };
  const source = await layer.open();
  const chunks =
    compression === 'gzip'
      ? gunzipBounded(source, { maxOutputBytes: limits.maxLayerBytes, timeoutMs: limits.layerTimeoutMs })
      : (source as AsyncIterable<Buffer>);
  for await (const entry of readTarEntries(chunks, {
    maxEntries: limits.maxEntries,
    maxFileBytes: limits.maxFileBytes,
  })) {
    const path = normalize(entry.name);
    const slash = path.lastIndexOf('/');
    const base = path.slice(slash + 1);
    const dir = slash < 0 ? '' : path.slice(0, slash);
    if (base === '.wh..wh..opq') {
      reading.opaque.push(dir);
      continue;
    }
    if (base.startsWith('.wh.')) {
      reading.removed.push(dir ? `${dir}/${base.slice(4)}` : base.slice(4));
      continue;
    }
    if (entry.type !== '0') continue;
    if (path === 'var/lib/rpm/Packages')
      reading.notes.push(
        'a BerkeleyDB rpm database (/var/lib/rpm/Packages) is not read: no maintained reader on npm',
      );
    const analyze = analyzerFor(path, entry, limits);
    if (!analyze) continue;
    try {
      reading.found.set(path, await analyze(entry, { path: `/${path}`, layer: layer.digest }));
    } catch (err) {
      // One unreadable file does not fail the scan; it still hides what was below it.
      reading.found.set(path, { packages: [] });
      reading.notes.push(`/${path} in ${layer.digest}: ${(err as Error).message}`);
      // A system error (a temporary file for an rpm database not written, ...) may not recur: read again
      // next time. A file past a bound or that does not parse gives the same note each time.
      if (!(err instanceof TooLarge) && (err as { code?: unknown }).code !== undefined) reading.keep = false;
    }
  }
  return reading;
}

function normalize(name: string): string {
  return name.replace(/^(?:\.\/|\/)+/, '').replace(/\/+$/, '');
}

/**
 * A reading as stored (JSON). Packages leave out their layer (the reading's own digest, put back on
 * the way in); files that yielded nothing are listed by path apart. Paths keep their tar order.
 */
interface StoredReading {
  files: Array<[string, Array<Omit<FoundPackage, 'layer'>>] | [string, { os: Finding }]>;
  removed: string[];
  opaque: string[];
  notes: string[];
}

export function serializeReading(reading: LayerReading): string {
  const files: StoredReading['files'] = [];
  for (const [path, f] of reading.found)
    files.push('os' in f ? [path, { os: f }] : [path, f.packages.map(({ layer: _, ...p }) => p)]);
  const stored: StoredReading = {
    files,
    removed: reading.removed,
    opaque: reading.opaque,
    notes: reading.notes,
  };
  return JSON.stringify(stored);
}

export function deserializeReading(text: string, digest: string): LayerReading {
  const stored = JSON.parse(text) as StoredReading;
  const found = new Map<string, Finding>();
  for (const [path, f] of stored.files)
    found.set(path, Array.isArray(f) ? { packages: f.map((p) => ({ ...p, layer: digest })) } : f.os);
  return { found, removed: stored.removed, opaque: stored.opaque, notes: stored.notes, keep: true };
}
