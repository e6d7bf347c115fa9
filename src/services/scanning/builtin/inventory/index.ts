import type { Finding } from './analyzers.js';
import {
  compressionOf,
  readLayer,
  readingVersion,
  type ImageLayer,
  type InventoryLimits,
  type LayerReading,
} from './layer-reading.js';
import type { FoundPackage, OsInfo } from './package.js';

export type { FoundPackage, OsInfo, PackageKind } from './package.js';
export type { ImageLayer, InventoryLimits, LayerReading } from './layer-reading.js';

export const DEFAULT_INVENTORY_LIMITS: InventoryLimits = {
  maxFileBytes: 64 * 1024 * 1024,
  maxRpmDbBytes: 512 * 1024 * 1024,
  maxLayerBytes: 16 * 1024 * 1024 * 1024,
  layerTimeoutMs: 10 * 60_000,
  maxEntries: 2_000_000,
};

export interface Inventory {
  os?: OsInfo;
  packages: FoundPackage[];
  /** What could not be read (a zstd layer, a file past a bound, a BerkeleyDB rpm database). */
  notes: string[];
}

/**
 * Readings of layers kept between scans (db/repos/layer-inventories.ts through scan-work.ts), keyed by
 * layer digest and `version` (readingVersion: the code, the compression, the limits). `get` answers
 * undefined for none; either may fail, which costs the scan a read of the layer, nothing more.
 */
export interface LayerReadingCache {
  get(digest: string, version: string): Promise<LayerReading | undefined>;
  put(digest: string, version: string, reading: LayerReading): Promise<void>;
}

/** How an inventory was made: layers whose reading came from the cache, layers read. */
export interface InventoryStats {
  cached: number;
  read: number;
}

/**
 * What an image contains, read from its layers without running it: each layer streams once through
 * gunzip and the tar walker (no layer touches the disk; only the files an analyzer reads are held, each
 * up to `maxFileBytes`), or its reading comes from `cache` when a scan read it before. Layers apply in
 * order as a container runtime would: a file in a higher layer replaces the same path below,
 * `.wh.<name>` deletes `<name>` (and what is under it) from lower layers, and `.wh..wh..opq` empties its
 * directory of lower layers' files. The layers are applied per image, so a layer shared by two images
 * shares its reading and each image gets its own result.
 */
export async function inventoryImage(
  layers: ImageLayer[],
  limits: InventoryLimits = DEFAULT_INVENTORY_LIMITS,
  cache?: LayerReadingCache,
  stats: InventoryStats = { cached: 0, read: 0 },
): Promise<Inventory> {
  const files = new Map<string, Finding>();
  const notes: string[] = [];
  for (const layer of layers) {
    const compression = compressionOf(layer.mediaType);
    if (compression === 'unsupported') {
      notes.push(`layer ${layer.digest} (${layer.mediaType}) is not gzip or plain tar; not read`);
      continue;
    }
    const version = readingVersion(compression, limits);
    let reading = cache ? await cache.get(layer.digest, version).catch(() => undefined) : undefined;
    if (reading) stats.cached++;
    else {
      reading = await readLayer(layer, compression, limits);
      stats.read++;
      if (cache && reading.keep) await cache.put(layer.digest, version, reading).catch(() => undefined);
    }
    notes.push(...reading.notes);
    for (const gone of reading.removed)
      for (const p of [...files.keys()]) if (p === gone || p.startsWith(`${gone}/`)) files.delete(p);
    for (const d of reading.opaque)
      for (const p of [...files.keys()]) if (d === '' || p.startsWith(`${d}/`)) files.delete(p);
    for (const [p, f] of reading.found) files.set(p, f);
  }
  let os: { os: OsInfo; priority: number } | undefined;
  const packages: FoundPackage[] = [];
  for (const f of files.values()) {
    if ('os' in f) {
      if (!os || f.priority > os.priority) os = f;
    } else packages.push(...f.packages);
  }
  return { os: os?.os, packages, notes };
}
