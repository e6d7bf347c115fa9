import { normalizeRecord } from './osv-record.js';
import type { Advisory, AffectedEntry, VulnDbInfo, VulnDbReader } from './vuln-db.js';

/** A VulnDbReader over records held in memory (unit tests, and tools that scan without a database). */
export class MemoryVulnDb implements VulnDbReader {
  private readonly entries = new Map<string, AffectedEntry[]>();
  private readonly byId = new Map<string, Advisory>();

  constructor(
    records: unknown[],
    private readonly about?: VulnDbInfo,
  ) {
    for (const raw of records) {
      const r = normalizeRecord(raw);
      if (!r) continue;
      this.byId.set(r.advisory.id, r.advisory);
      for (const e of r.entries) {
        const key = `${e.ecosystem}\0${e.name}`;
        this.entries.set(key, [...(this.entries.get(key) ?? []), e]);
      }
    }
  }

  affected(ecosystem: string, names: string[]): Promise<AffectedEntry[]> {
    return Promise.resolve(names.flatMap((n) => this.entries.get(`${ecosystem}\0${n}`) ?? []));
  }

  advisories(ids: string[]): Promise<Advisory[]> {
    return Promise.resolve(ids.flatMap((id) => this.byId.get(id) ?? []));
  }

  info(): Promise<VulnDbInfo | undefined> {
    return Promise.resolve(this.about);
  }
}
