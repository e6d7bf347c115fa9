import type { MetaStore } from '../../../db/store.js';
import type { CvssScores, Severity } from './severity.js';
import type { Advisory, AffectedEntry, VulnDbInfo, VulnDbReader } from './vuln-db.js';

/**
 * The active import of the vulnerability database in the metadata database, as the scanner reads it.
 * `openVulnDb` pins the generation active at that moment, so one scan reads one import; the next scan
 * opens again and sees a newer import. Undefined when nothing was ever imported.
 */
export async function openVulnDb(store: Pick<MetaStore, 'vulnDb'>): Promise<VulnDbReader | undefined> {
  const active = await store.vulnDb.active();
  if (!active) return undefined;
  const info: VulnDbInfo = {
    version: active.version,
    importedAt: active.importTime,
    source: active.source,
    records: active.recordCount,
  };
  return {
    info: () => Promise.resolve(info),
    affected: async (ecosystem, names): Promise<AffectedEntry[]> =>
      (await store.vulnDb.affected(active.id, ecosystem, names)).map((r) => ({
        ...r,
        severity: r.severity as Severity,
        cvss: r.cvss as CvssScores,
      })),
    advisories: async (ids): Promise<Advisory[]> => await store.vulnDb.advisories(active.id, ids),
  };
}
