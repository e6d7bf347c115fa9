import type {
  DangerousArtifactRow,
  DangerousCveRow,
  SeveritySums,
  VulnerabilityRow,
} from '../../db/repos/security-hub.js';
import type { MetaStore } from '../../db/store.js';
import type { ListQuery, Page } from '../../lib/query.js';
import { REPORT_MIME_TYPE } from '../scanning/builtin/report.js';

export interface SecuritySummary extends SeveritySums {
  totalArtifacts: number;
  scanned: number;
  dangerousCves?: DangerousCveRow[];
  dangerousArtifacts?: DangerousArtifactRow[];
}

export interface VulnerabilityView extends VulnerabilityRow {
  tags?: string[];
}

/**
 * Harbor's security hub: the whole registry's vulnerabilities as the system's default scanner reported
 * them (controller/securityhub). With no default scanner the summary is all zeros and the list empty.
 */
export class SecurityHub {
  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'securityHub'>;
      /** The registration uuid of the system's default scanner, if any. */
      defaultScanner: () => Promise<string | undefined>;
    },
  ) {}

  async summary(options: { withCves: boolean; withArtifacts: boolean }): Promise<SecuritySummary> {
    const uuid = await this.deps.defaultScanner();
    const repo = this.deps.store.securityHub;
    if (!uuid)
      return {
        critical: 0,
        high: 0,
        medium: 0,
        low: 0,
        none: 0,
        unknown: 0,
        fixable: 0,
        totalArtifacts: 0,
        scanned: 0,
      };
    const [sums, totalArtifacts, scanned] = await Promise.all([
      repo.sums(uuid, REPORT_MIME_TYPE),
      repo.totalArtifacts(),
      repo.scannedArtifacts(uuid, REPORT_MIME_TYPE),
    ]);
    return {
      ...sums,
      totalArtifacts,
      scanned,
      ...(options.withCves ? { dangerousCves: await repo.dangerousCves(uuid) } : {}),
      ...(options.withArtifacts
        ? { dangerousArtifacts: await repo.dangerousArtifacts(uuid, REPORT_MIME_TYPE) }
        : {}),
    };
  }

  /** `GET /security/vul`: one page and the total (-1 past 1000 when `tuneCount`). */
  async vulnerabilities(
    query: ListQuery,
    options: { tuneCount: boolean; withTag: boolean },
  ): Promise<Page<VulnerabilityView>> {
    const uuid = await this.deps.defaultScanner();
    if (!uuid) return { items: [], total: 0 };
    const repo = this.deps.store.securityHub;
    const total = await repo.countVulnerabilities(uuid, query, options.tuneCount);
    const items: VulnerabilityView[] = await repo.listVulnerabilities(uuid, query);
    if (options.withTag) {
      const tags = await repo.tagsOf(
        items.map((i) => i.artifactId),
        10,
      );
      for (const item of items) item.tags = tags.get(item.artifactId) ?? [];
    }
    return { items, total };
  }
}
