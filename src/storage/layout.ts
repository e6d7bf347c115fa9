import { parseDigest } from '../oci/digest.js';

/**
 * Every storage path Berth uses is built here. The tree under a driver's root:
 *
 *   blobs/<algorithm>/<first two hex>/<hex>/data    content-addressed bytes: layers, configs, manifests
 *   uploads/<uuid>/data                             an upload session's bytes so far
 *   exports/scandata_export_<execution id>.csv      a CVE export's CSV, until its owner downloads it
 *
 * Blobs are written once (atomically) and never modified; only garbage collection deletes them.
 */
export const layout = {
  blob(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return `blobs/${algorithm}/${hex.slice(0, 2)}/${hex}/data`;
  },
  /** The folder of one blob (deleting it removes the blob). */
  blobDir(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return `blobs/${algorithm}/${hex.slice(0, 2)}/${hex}`;
  },
  /** The folder holding every upload session's folder. */
  uploadsRoot(): string {
    return 'uploads';
  },
  uploadDir(id: string): string {
    return `uploads/${id}`;
  },
  upload(id: string): string {
    return `uploads/${id}/data`;
  },
  /** A scan data export's CSV (deleted once downloaded, as Harbor does). */
  scanExport(executionId: number): string {
    return `exports/scandata_export_${executionId}.csv`;
  },
};
