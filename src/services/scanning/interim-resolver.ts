import type { MetaStore } from '../../db/store.js';
import { parseManifest } from '../../oci/manifest.js';
import { mediaTypes } from '../../oci/media-types.js';
import type { StorageDriver } from '../../storage/driver.js';
import { layout } from '../../storage/layout.js';
import { REPORT_MIME_TYPE } from './builtin/report.js';
import { BUILTIN_SCANNER_UUID, type Scanner, type ScannerResolver } from './scanner.js';

/**
 * Every project scans with the built-in scanner: the stand-in the scan jobs and API are built against
 * until scanner registrations (issue 17, h17-scanners) give each project its registered scanner. It reads
 * the image's layers from storage and matches them against the active vulnerability database import.
 */
/** The scanner engine (version schemes, CVSS, layer readers) loads with the first scan, not at start. */
const engine = () => import('./builtin/scan-image.js');

export function builtinOnlyResolver(deps: { store: Pick<MetaStore, 'vulnDb'>; storage: StorageDriver }) {
  const scanner: Scanner = {
    metadata: async () => ({
      scanner: (await engine()).BUILTIN_SCANNER,
      capabilities: [
        {
          type: 'vulnerability',
          consumes_mime_types: [mediaTypes.ociManifest, mediaTypes.dockerManifest],
          produces_mime_types: [REPORT_MIME_TYPE],
        },
      ],
      properties: {},
    }),
    async scan(target, type, log, signal) {
      if (type !== 'vulnerability') throw new Error(`the built-in scanner does not generate ${type} reports`);
      const manifest = parseManifest(
        await deps.storage.getContent(layout.blob(target.digest)),
        target.mediaType,
      );
      const { scanImage } = await engine();
      const { openVulnDb } = await import('./builtin/stored-vuln-db.js');
      const db = await openVulnDb(deps.store);
      if (!db) throw new Error('no vulnerability database is imported: run `berth vulndb import`');
      log(`vulnerability database ${(await db.info())?.version ?? '?'}`);
      signal.throwIfAborted();
      const layers = manifest.blobs
        .filter((b) => b.digest !== manifest.config?.digest)
        .map((b) => ({
          digest: b.digest,
          mediaType: b.mediaType,
          open: () => {
            signal.throwIfAborted();
            return deps.storage.read(layout.blob(b.digest));
          },
        }));
      log(`reading ${layers.length} layer(s) of ${target.repository}@${target.digest}`);
      const report = await scanImage(
        {
          layers,
          artifact: { repository: target.repository, digest: target.digest, mime_type: target.mediaType },
        },
        db,
      );
      signal.throwIfAborted();
      log(`found ${report.vulnerabilities.length} vulnerabilities`);
      return { type: 'vulnerability', report };
    },
  };
  const resolver: ScannerResolver = {
    forProject: async () => ({
      uuid: BUILTIN_SCANNER_UUID,
      name: (await engine()).BUILTIN_SCANNER.name,
      scanner,
    }),
  };
  return resolver;
}
