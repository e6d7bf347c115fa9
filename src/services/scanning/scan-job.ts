import type { MetaStore } from '../../db/store.js';
import type { JobContext } from '../../jobs/kind.js';
import type { Clock } from '../../lib/clock.js';
import type { EventBus } from '../events.js';
import { reportDocuments, sbomOverviewOf, type ScanJobPayload } from './scan-service.js';
import type { ScannerResolver, ScanTarget } from './scanner.js';

/** Where an SBOM goes: pushed as the image's accessory (SbomAccessoryWriter); answers its digest. */
export interface SbomSink {
  write(target: ScanTarget, document: Uint8Array): Promise<string>;
}
import { overviewNeedsDocuments, overviewOf, storedReport } from './summary.js';
import { REPORT_MIME_TYPE } from './builtin/report.js';
import { SCAN_COMPLETED_LINE } from './builtin/scan-log.js';

type Ended = 'ScanCompleted' | 'ScanFailed' | 'ScanStopped';

/**
 * Runs one `scan.artifact` job: marks its reports Running, asks the project's scanner, and records the
 * outcome with its event in one transaction (Success with the report and its vulnerability rows, Error
 * with the reason, Stopped when the job was stopped), then counts the project's vulnerabilities for
 * insights. A report replaced or stopped meanwhile is left alone.
 */
export class ScanJob {
  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'transaction' | 'scanReports'>;
      clock: Clock;
      events: EventBus;
      scanners: ScannerResolver;
      sboms: SbomSink;
    },
  ) {}

  async run(p: ScanJobPayload, ctx: JobContext): Promise<void> {
    const { store, clock } = this.deps;
    const started: number[] = [];
    for (const id of p.reportIds)
      if (await store.scanReports.start(id, clock.now().toISOString())) started.push(id);
    if (started.length === 0) return;
    const startTime = clock.now();
    const lines: string[] = [];
    const log = (line: string) => {
      lines.push(`${clock.now().toISOString()} ${line}`);
      void ctx.log(line);
    };
    const event = {
      repository: p.repository,
      digest: p.digest,
      tag: p.tag,
      scanType: p.type,
      operator: p.operator,
    };
    let outcome:
      | { name: Ended; write: (id: number, end: string) => Parameters<typeof store.scanReports.finish> }
      /** The reports the scanner ended itself (the built-in one's scanning process): nothing to write. */
      | { name: Ended; ended: number[] };
    let counted = false;
    try {
      const found = await this.deps.scanners.forProject(p.projectId);
      if (!found) throw new Error(`no available scanner for project: ${p.projectId}`);
      if (found.uuid !== p.registrationUuid)
        throw new Error(`the project's scanner changed to ${found.name}`);
      log(`scanning ${p.repository}@${p.digest} with ${found.name}`);
      const target = {
        projectId: p.projectId,
        repository: p.repository,
        digest: p.digest,
        mediaType: p.mediaType,
        tag: p.tag,
        reportIds: started,
        log: lines,
      };
      const result = await found.scanner.scan(target, p.type, log, ctx.signal);
      // Reports the scanner ended are complete: a stop that came after has nothing left to stop.
      if (!('ended' in result)) ctx.signal.throwIfAborted();
      log(SCAN_COMPLETED_LINE);
      if (result.type === 'vulnerability') {
        counted = true;
        const logText = () => lines.join('\n') + '\n';
        if ('ended' in result) outcome = { name: 'ScanCompleted', ended: result.ended };
        else {
          const stored = 'stored' in result ? result.stored : storedReport(result.report);
          outcome = {
            name: 'ScanCompleted',
            write: (id, end) => [
              id,
              {
                status: 'Success',
                severity: stored.severity,
                counts: stored.counts,
                scanner: stored.scanner,
                report: stored.document,
                log: logText(),
                endTime: end,
              },
              stored.rows,
            ],
          };
        }
      } else {
        const sbomDigest = await this.deps.sboms.write(target, result.document);
        ctx.signal.throwIfAborted();
        log(`SBOM (${result.mediaType}, ${result.document.length} bytes) stored as accessory ${sbomDigest}`);
        const { scanner } = await found.scanner.metadata(ctx.signal);
        outcome = {
          name: 'ScanCompleted',
          write: (id, end) => [
            id,
            {
              status: 'Success',
              scanner: JSON.stringify(scanner),
              report: JSON.stringify(sbomSummary(startTime, end, p.repository, sbomDigest, scanner)),
              log: lines.join('\n') + '\n',
              endTime: end,
            },
          ],
        };
      }
    } catch (err) {
      const stopped = ctx.signal.aborted;
      log(stopped ? 'scan stopped' : `scan failed: ${err instanceof Error ? err.message : String(err)}`);
      outcome = {
        name: stopped ? 'ScanStopped' : 'ScanFailed',
        write: (id, end) => [
          id,
          { status: stopped ? 'Stopped' : 'Error', log: lines.join('\n') + '\n', endTime: end },
        ],
      };
    }
    const end = clock.now().toISOString();
    const ended = await store.transaction(async (tx) => {
      let any = false;
      for (const id of started)
        any =
          ('ended' in outcome
            ? outcome.ended.includes(id)
            : await tx.scanReports.finish(...outcome.write(id, end))) || any;
      if (!any) return undefined;
      const rows = (await tx.scanReports.ofDigests([p.digest], p.registrationUuid)).filter((r) =>
        started.includes(r.id),
      );
      const overview: Record<string, unknown> = {};
      // Documents are read back only where the overview needs them (an SBOM's summary, another report type).
      const parsed = await reportDocuments(
        tx,
        rows.filter((r) => overviewNeedsDocuments([r])),
      );
      const sboms =
        p.type === 'sbom' ? await tx.scanReports.documents(rows.map((r) => r.id)) : new Map<number, string>();
      for (const r of rows)
        overview[r.mime_type] = p.type === 'sbom' ? sbomOverviewOf([r], sboms) : overviewOf([r], parsed);
      const full = { ...event, overview };
      await this.deps.events.publish(tx, outcome.name, full);
      return full;
    });
    if (ended) this.deps.events.emit(outcome.name, ended);
    // The reports a rescan replaced (ScanReportRepo.detach) go with the new report's write: the scanning
    // process or thread purged them when it wrote the report, else they go here. A purge that fails
    // leaves them to the next one.
    if (!('ended' in outcome)) await store.scanReports.purgeDetached().catch(() => 0);
    if (ended && counted) {
      const c = await store.scanReports.projectCounts(p.projectId, p.registrationUuid, REPORT_MIME_TYPE);
      this.deps.events.emit('VulnerabilitiesCounted', {
        projectId: p.projectId,
        critical: c.critical,
        high: c.high,
        medium: c.medium,
        low: c.low,
        unknown: c.unknown,
      });
    }
  }
}

/** Harbor's SBOM report summary (pkg/scan/sbom generateReport), kept as the SBOM report's document. */
export function sbomSummary(
  start: Date,
  end: string,
  repository: string,
  digest: string,
  scanner: { name: string; vendor: string; version: string },
) {
  return {
    start_time: start.toISOString(),
    end_time: end,
    duration: Math.round((Date.parse(end) - start.getTime()) / 1000),
    sbom_repository: repository,
    sbom_digest: digest,
    scan_status: 'Success',
    scanner,
  };
}
