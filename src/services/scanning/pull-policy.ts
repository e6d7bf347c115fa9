import type { MetaStore } from '../../db/store.js';
import type { ArtifactRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { isDigestString } from '../../oci/digest.js';
import { manifestKind } from '../../oci/media-types.js';
import type { RequestContext } from '../context.js';
import { REPORT_MIME_TYPE } from './builtin/report.js';
import { SEVERITIES, severityCode, type Severity } from './builtin/severity.js';
import type { CveAllowlists } from './cve-allowlists.js';
import type { ScanService } from './scan-service.js';
import { mergeStatus } from './summary.js';

/** Harbor's ParseSeverityVersion3: the project's `severity` metadata as a level (negligible is None). */
export function projectSeverity(value: string | undefined): Severity {
  const v = (value ?? '').toLowerCase();
  if (v === 'negligible') return 'None';
  const found = SEVERITIES.find((s) => s.toLowerCase() === v && s !== 'Unknown');
  return found ?? 'Unknown';
}

const policyText = (s: Severity) =>
  `due to configured policy in 'Prevent images with vulnerability severity of "${s}" or higher from running.' `;

/**
 * The "prevent vulnerable images from running" policy on manifest pulls, as Harbor's vulnerable middleware
 * applies it: a project with `prevent_vul` refuses (412 PROJECTPOLICYVIOLATION) a scannable artifact
 * without a report, one whose scan did not succeed, and one with a vulnerability at or above its
 * `severity` that the effective CVE allowlist does not exempt. Which projects prevent is read once every
 * `refreshMs` for the whole process, so a pull from any other project costs no query.
 */
export class PullPolicy {
  private preventing: Set<string> | undefined;
  private loadedAt = 0;
  private loading: Promise<Set<string>> | undefined;

  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'projectCatalog' | 'repositoryCatalog' | 'artifacts' | 'scanReports'>;
      clock: Clock;
      scans: ScanService;
      allowlists: CveAllowlists;
      refreshMs: number;
    },
  ) {}

  /** Forgets the cached project list (a project's metadata changed on this node). */
  invalidate(): void {
    this.preventing = undefined;
  }

  private async preventingProjects(): Promise<Set<string>> {
    const now = this.deps.clock.now().getTime();
    if (this.preventing && now - this.loadedAt < this.deps.refreshMs) return this.preventing;
    this.loading ??= this.deps.store.projectCatalog
      .namesWithMetadata('prevent_vul', 'true')
      .then((names) => {
        this.preventing = new Set(names);
        this.loadedAt = now;
        return this.preventing;
      })
      .finally(() => (this.loading = undefined));
    return this.loading;
  }

  /**
   * Harbor's GetVulnerable with the project's effective CVE allowlist, for P2P preheat's vulnerability
   * criterion: the severity code (None 0 … Critical 5) of each artifact whose vulnerability scan succeeded,
   * counting only the CVEs the allowlist does not exempt (None when it exempts them all). Artifacts not
   * scanned, or whose scan did not succeed, are absent.
   */
  async severities(projectId: number, rows: ArtifactRow[]): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    if (rows.length === 0) return out;
    const meta = (await this.deps.store.projectCatalog.metadata([projectId])).get(projectId) ?? {};
    const allowlist = await this.deps.allowlists.effective(projectId, meta);
    for (const row of rows) {
      const subject = { projectId, repository: '', repositoryId: row.repository_id, row };
      const found = await this.deps.scans.reportsOf(subject);
      const reports = (found?.reports ?? []).filter((r) => r.mime_type === REPORT_MIME_TYPE);
      if (reports.length === 0 || reports.map((r) => r.status).reduce(mergeStatus) !== 'Success') continue;
      out.set(row.id, Math.max(severityCode('None'), (await this.unexempted(reports, allowlist)).highest));
    }
    return out;
  }

  /** The vulnerabilities of these reports that the allowlist does not exempt: how many, the highest code. */
  private async unexempted(reports: { id: number }[], allowlist: Set<string>) {
    const vulns = await this.deps.scans.vulnerabilityIds(reports.map((r) => r.id));
    let count = 0;
    let highest = -1;
    for (const v of vulns) {
      if (allowlist.has(v.cve_id)) continue;
      count++;
      highest = Math.max(highest, v.severity_code);
    }
    return { count, highest };
  }

  /** Throws PROJECTPOLICYVIOLATION when the pull of `repository:reference` is refused. */
  async check(ctx: RequestContext, repository: string, reference: string): Promise<void> {
    const projectName = repository.split('/', 1)[0]!;
    if (!(await this.preventingProjects()).has(projectName)) return;
    const { store } = this.deps;
    const project = await store.projectCatalog.byName(projectName);
    const repo = await store.repositoryCatalog.byName(repository);
    if (!project || !repo) return;
    const row = isDigestString(reference)
      ? await store.artifacts.findByDigest(repo.id, reference)
      : await store.artifacts.findByTag(repo.id, reference);
    if (!row) return;
    const meta = (await store.projectCatalog.metadata([project.id])).get(project.id) ?? {};
    if (meta.prevent_vul !== 'true') return;
    const severity = projectSeverity(meta.severity);
    const found = await this.deps.scans.reportsOf({
      projectId: project.id,
      repository,
      repositoryId: repo.id,
      row,
    });
    if (!found) return;
    const refuse = (message: string) => {
      ctx.log.info({ repository, reference }, 'pull refused by the vulnerability policy');
      throw new AppError('PROJECTPOLICYVIOLATION', message);
    };
    if (found.targets.length === 0) return;
    const reports = found.reports.filter((r) => r.mime_type === REPORT_MIME_TYPE);
    const covered = new Set(reports.map((r) => r.digest));
    if (found.targets.some((d) => !covered.has(d)))
      refuse(
        `current image without vulnerability scanning cannot be pulled ${policyText(severity)}` +
          'To continue with pull, please contact your project administrator for help.',
      );
    // An index of images is not judged itself once its children have reports: their pulls are (Harbor).
    if (manifestKind(row.media_type) === 'index') return;
    const status = reports.map((r) => r.status).reduce(mergeStatus);
    if (status !== 'Success')
      refuse(
        `current image with "${status}" status of vulnerability scanning cannot be pulled ${policyText(severity)}` +
          'To continue with pull, please contact your project administrator for help.',
      );
    const allowlist = await this.deps.allowlists.effective(project.id, meta);
    const { count, highest } = await this.unexempted(reports, allowlist);
    if (highest >= 0 && highest >= severityCode(severity))
      refuse(
        `current image with ${count} ${count > 1 ? 'vulnerabilities' : 'vulnerability'} cannot be pulled ${policyText(severity)}` +
          'To continue with pull, please contact your project administrator to exempt matched vulnerabilities through configuring the CVE allowlist.',
      );
  }
}
