import type { Readable } from 'node:stream';
import type { Clock } from '../../../lib/clock.js';
import { mediaTypes } from '../../../oci/media-types.js';
import type { StorageDriver } from '../../../storage/driver.js';
import { layout } from '../../../storage/layout.js';
import type { ScanResult, ScanTarget, ScanType, Scanner, ScannerMetadata } from '../scanner.js';
import type { Inventory, InventoryLimits } from './inventory/index.js';
import { REPORT_MIME_TYPE } from './report.js';
import { BUILTIN_SCANNER } from './scan-image.js';
import { inProcessEngine, type ScanEngine, type ScanWork, type ScanWorkStore } from './scan-work.js';
import { openVulnDb } from './stored-vuln-db.js';

/** Makes an SBOM document of an inventory (given by the SBOM feature; without it, no sbom capability). */
export type SbomGenerator = (
  inventory: Inventory,
  target: ScanTarget,
) => Promise<{ mediaType: string; document: Uint8Array }>;

/** Properties of the built-in scanner's metadata naming the vulnerability database in use. */
export const VULNDB_PROPERTY = {
  updatedAt: 'harbor.scanner-adapter/vulnerability-database-updated-at',
  version: 'berth.vulnerability-database/version',
  source: 'berth.vulnerability-database/source',
  records: 'berth.vulnerability-database/records',
} as const;

const imageManifests = [mediaTypes.ociManifest, mediaTypes.dockerManifest];
const imageConfigs: readonly string[] = [mediaTypes.ociConfig, mediaTypes.dockerConfig];
/** Manifests and image configs are small documents; anything larger is not an image Berth reads. */
const maxDocumentBytes = 4 * 1024 * 1024;

/**
 * The built-in offline scanner: reads the image's manifest, config and layers from the StorageDriver
 * (layers streamed, never unpacked to disk), inventories its packages and matches them against the
 * vulnerability database imported into the metadata database. Each scan opens the active import, so a
 * new `berth vulndb import` is used from the next scan on, on every node. The reading and matching run
 * in the given engine: a worker thread pool (ScanPool, `scanning.workers`) or, without one, this
 * event loop.
 */
export class BuiltinScanner implements Scanner {
  constructor(
    private readonly d: {
      /** With `layerInventories`, layers read by an earlier scan are not read again (on this event loop). */
      store: ScanWorkStore;
      storage: StorageDriver;
      clock: Clock;
      limits?: InventoryLimits;
      sbom?: SbomGenerator;
      engine?: ScanEngine;
    },
  ) {}

  async close(): Promise<void> {
    await this.d.engine?.close?.();
  }

  capabilities(): ScannerMetadata['capabilities'] {
    const capabilities: ScannerMetadata['capabilities'] = [
      {
        type: 'vulnerability',
        consumes_mime_types: [...imageManifests],
        produces_mime_types: [REPORT_MIME_TYPE],
      },
    ];
    if (this.d.sbom)
      capabilities.push({
        type: 'sbom',
        consumes_mime_types: [...imageManifests],
        produces_mime_types: ['application/vnd.security.sbom.report+json; version=1.0'],
      });
    return capabilities;
  }

  async metadata(): Promise<ScannerMetadata> {
    const db = await openVulnDb(this.d.store);
    const info = await db?.info();
    return {
      scanner: { ...BUILTIN_SCANNER },
      capabilities: this.capabilities(),
      properties: {
        'harbor.scanner-adapter/scanner-type': 'os-package-vulnerability',
        ...(info
          ? {
              [VULNDB_PROPERTY.updatedAt]: info.importedAt,
              [VULNDB_PROPERTY.version]: info.version,
              [VULNDB_PROPERTY.source]: info.source,
              [VULNDB_PROPERTY.records]: String(info.records),
            }
          : { [VULNDB_PROPERTY.version]: 'none imported (run berth vulndb import)' }),
      },
    };
  }

  async scan(
    target: ScanTarget,
    type: ScanType,
    log: (line: string) => void,
    signal: AbortSignal,
  ): Promise<ScanResult> {
    if (type === 'sbom' && !this.d.sbom) throw new Error('the built-in scanner does not generate SBOMs here');
    const work: ScanWork = {
      type,
      layers: await this.imageLayers(target),
      artifact: { repository: target.repository, digest: target.digest, mime_type: target.mediaType },
      now: this.d.clock.now().toISOString(),
      ...(this.d.limits ? { limits: this.d.limits } : {}),
      ...(target.reportIds ? { reports: target.reportIds } : {}),
      ...(target.log ? { log: [...target.log] } : {}),
    };
    let open: Readable | undefined;
    const stop = () => open?.destroy(new Error('the scan was stopped'));
    signal.addEventListener('abort', stop, { once: true });
    const engine = this.d.engine ?? inProcessEngine(this.d.store);
    const done = await engine
      .run(
        work,
        async (digest) => {
          signal.throwIfAborted();
          return (open = await this.d.storage.read(layout.blob(digest)));
        },
        signal,
      )
      .finally(() => signal.removeEventListener('abort', stop));
    // Reports the scanning process already ended are complete: a stop that came after has nothing to stop.
    if (signal.aborted && !done.filled) throw new Error('the scan was stopped');
    for (const line of done.lines) log(line);
    if (type === 'sbom') {
      const sbom = await this.d.sbom!(done.inventory!, target);
      return { type: 'sbom', mediaType: sbom.mediaType, document: sbom.document };
    }
    return done.filled
      ? { type: 'vulnerability', ended: done.filled.ended }
      : { type: 'vulnerability', stored: done.stored! };
  }

  /** The image's layers, lowest first (their bytes are streamed from storage when the engine reads them). */
  private async imageLayers(target: ScanTarget): Promise<ScanWork['layers']> {
    if (!imageManifests.includes(target.mediaType as never))
      throw new Error(`the built-in scanner reads image manifests only, not ${target.mediaType}`);
    const manifest = await this.document(target.digest, 'manifest');
    const config = manifest.config as { mediaType?: string; digest?: string } | undefined;
    if (!config?.digest || !imageConfigs.includes(config.mediaType ?? ''))
      throw new Error(`${target.digest} is not a container image (config ${config?.mediaType ?? 'missing'})`);
    const image = await this.document(config.digest, 'config');
    if (typeof image.rootfs !== 'object') throw new Error(`the image config ${config.digest} has no rootfs`);
    const layers = Array.isArray(manifest.layers)
      ? (manifest.layers as { mediaType?: string; digest?: string }[])
      : [];
    return layers.map((l) => ({ digest: l.digest ?? '', mediaType: l.mediaType ?? '' }));
  }

  private async document(digest: string, what: string): Promise<Record<string, unknown>> {
    const path = layout.blob(digest);
    const { size } = await this.d.storage.stat(path).catch(() => {
      throw new Error(`the ${what} ${digest} is not in storage`);
    });
    if (size > maxDocumentBytes)
      throw new Error(`the ${what} ${digest} is larger than ${maxDocumentBytes} bytes`);
    try {
      const doc = JSON.parse((await this.d.storage.getContent(path)).toString('utf8')) as unknown;
      if (doc && typeof doc === 'object' && !Array.isArray(doc)) return doc as Record<string, unknown>;
    } catch {
      // answered below
    }
    throw new Error(`the ${what} ${digest} is not a JSON object`);
  }
}
