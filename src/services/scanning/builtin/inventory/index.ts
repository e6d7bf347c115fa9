import type { Readable } from 'node:stream';
import { gunzipBounded } from '../../../../lib/bounded-gunzip.js';
import { readTarEntries } from '../../../../lib/tar-reader.js';
import { analyzerFor, type AnalyzerLimits, type Finding } from './analyzers.js';
import type { FoundPackage, OsInfo } from './package.js';

export type { FoundPackage, OsInfo, PackageKind } from './package.js';

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
 * What an image contains, read from its layers without running it: each layer streams once through
 * gunzip and the tar walker (no layer touches the disk; only the files an analyzer reads are held, each
 * up to `maxFileBytes`). Layers apply in order as a container runtime would: a file in a higher layer
 * replaces the same path below, `.wh.<name>` deletes `<name>` (and what is under it) from lower layers,
 * and `.wh..wh..opq` empties its directory of lower layers' files.
 */
export async function inventoryImage(
  layers: ImageLayer[],
  limits: InventoryLimits = DEFAULT_INVENTORY_LIMITS,
): Promise<Inventory> {
  const files = new Map<string, Finding>();
  const notes: string[] = [];
  for (const layer of layers) {
    const found = new Map<string, Finding>();
    const removed: string[] = [];
    const opaque: string[] = [];
    const compression = compressionOf(layer.mediaType);
    if (compression === 'unsupported') {
      notes.push(`layer ${layer.digest} (${layer.mediaType}) is not gzip or plain tar; not read`);
      continue;
    }
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
        opaque.push(dir);
        continue;
      }
      if (base.startsWith('.wh.')) {
        removed.push(dir ? `${dir}/${base.slice(4)}` : base.slice(4));
        continue;
      }
      if (entry.type !== '0') continue;
      if (path === 'var/lib/rpm/Packages')
        notes.push(
          'a BerkeleyDB rpm database (/var/lib/rpm/Packages) is not read: no maintained reader on npm',
        );
      const analyze = analyzerFor(path, entry, limits);
      if (!analyze) continue;
      try {
        found.set(path, await analyze(entry, { path: `/${path}`, layer: layer.digest }));
      } catch (err) {
        // One unreadable file does not fail the scan; it still hides what was below it.
        found.set(path, { packages: [] });
        notes.push(`/${path} in ${layer.digest}: ${(err as Error).message}`);
      }
    }
    for (const gone of removed)
      for (const p of [...files.keys()]) if (p === gone || p.startsWith(`${gone}/`)) files.delete(p);
    for (const d of opaque)
      for (const p of [...files.keys()]) if (d === '' || p.startsWith(`${d}/`)) files.delete(p);
    for (const [p, f] of found) files.set(p, f);
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

function normalize(name: string): string {
  return name.replace(/^(?:\.\/|\/)+/, '').replace(/\/+$/, '');
}

function compressionOf(mediaType: string): 'gzip' | 'none' | 'unsupported' {
  if (/gzip$/.test(mediaType)) return 'gzip';
  if (/\.tar$|tar$/.test(mediaType)) return 'none';
  return 'unsupported';
}
