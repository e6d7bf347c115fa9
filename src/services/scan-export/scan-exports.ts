import { Readable } from 'node:stream';
import { z } from 'zod';
import { executionStatusOfJob, type ExecutionWithJob } from '../../db/repos/executions.js';
import type { MetaStore } from '../../db/store.js';
import type { JobContext } from '../../jobs/kind.js';
import type { JobQueue } from '../../jobs/queue.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { Subject } from '../access/subject.js';
import { PathNotFoundError, type StorageDriver } from '../../storage/driver.js';
import { layout } from '../../storage/layout.js';
import { REPORT_MIME_TYPE, type VulnerabilityReport } from '../scanning/builtin/report.js';
import { reportDocuments } from '../scanning/scan-service.js';
import { csvLine, exportRows, EXPORT_COLUMNS, selectArtifacts } from './export-rows.js';

export const SCAN_EXPORT_VENDOR = 'SCAN_DATA_EXPORT';
export const scanExportKind = 'scan.export';

/** Harbor's ScanDataExportRequest: one project, optional doublestar filters and labels. */
export const exportCriteria = z.object({
  job_name: z.string().max(255).optional(),
  projects: z.array(z.number().int()).max(100).optional(),
  labels: z.array(z.number().int()).max(100).optional(),
  repositories: z.string().max(1024).optional(),
  cveIds: z.string().max(4096).optional(),
  tags: z.string().max(1024).optional(),
});
export type ExportCriteria = z.infer<typeof exportCriteria>;

export const scanExportPayload = z.object({
  executionId: z.number().int(),
  projectId: z.number().int(),
  labels: z.array(z.number().int()),
  repositories: z.string(),
  cveIds: z.string(),
  tags: z.string(),
});
export type ScanExportPayload = z.infer<typeof scanExportPayload>;

/** The handler's check that the caller may `create` or `read` CVE exports in a project (throws if not). */
export type ExportAccess = (projectId: number, action: 'create' | 'read') => Promise<void>;

/** An export's CSV being read: `done()` removes it and its execution. */
export interface ExportFile {
  name: string;
  body: Readable;
  done(): Promise<void>;
}

export interface ExportExecution {
  id: number;
  userId: number;
  userName: string;
  status: string;
  statusText: string;
  trigger: string;
  startTime: string;
  endTime: string | null;
  filePresent: boolean;
  projectIds: number[];
}

interface ExtraAttrs {
  project_ids: number[];
  job_name: string;
  user_name: string;
  status_message?: string;
}

type Store = Pick<
  MetaStore,
  'transaction' | 'executions' | 'projects' | 'securityHub' | 'artifactCatalog' | 'labels' | 'scanReports'
>;

/**
 * Harbor's scan data export (controller/scandataexport and the SCAN_DATA_EXPORT job): a user asks for the
 * vulnerabilities of one project's artifacts (narrowed by repository and tag patterns, labels and CVE ids)
 * as CSV; a `scan.export` job writes the file under `exports/`; the user who asked, and only that user,
 * sees the execution and downloads the file once (the download removes the file and the execution).
 */
export class ScanExports {
  constructor(
    private readonly d: {
      store: Store;
      storage: StorageDriver;
      queue: Pick<JobQueue, 'enqueue'>;
      clock: Clock;
      /** The registration uuid whose reports are exported (the system's default scanner). */
      defaultScanner: () => Promise<string | undefined>;
    },
  ) {}

  /**
   * Harbor's ExportScanData: validates the request (the report MIME type, one project that exists, no
   * spaces in patterns), asks `may` whether the caller creates CVE exports in that project, and starts
   * the export (an execution and its job). Only a user owns exports: a robot is refused as Harbor does.
   */
  async request(
    caller: Subject,
    scanDataType: string | undefined,
    criteria: ExportCriteria,
    may: ExportAccess,
  ): Promise<number> {
    const projectId = await this.validate(scanDataType, criteria);
    await may(projectId, 'create');
    if (caller.kind !== 'user')
      throw new AppError('FORBIDDEN', `User : ${caller.kind === 'robot' ? caller.name : ''} not found`);
    return this.start({ id: caller.userId, name: caller.username }, projectId, criteria);
  }

  /** The caller's own executions, newest first, once `may` lets them read each one's project. */
  async listOwn(caller: Subject, may: ExportAccess): Promise<ExportExecution[]> {
    if (caller.kind !== 'user') return [];
    const { rows } = await this.d.store
      .executions(SCAN_EXPORT_VENDOR)
      .listWithJob({ offset: 0, limit: 1000 });
    const mine = await Promise.all(
      rows.filter((r) => r.vendor_id === caller.userId).map((r) => this.view(r)),
    );
    for (const id of new Set(mine.flatMap((e) => e.projectIds))) await may(id, 'read');
    return mine;
  }

  /**
   * One execution, as Harbor checks it: NOT_FOUND when there is none, then `may` on each of its projects,
   * then a bare FORBIDDEN (empty message) when it is another caller's.
   */
  async getOwn(caller: Subject, id: number, may: ExportAccess): Promise<ExportExecution> {
    const row = await this.d.store.executions(SCAN_EXPORT_VENDOR).findWithJob(id);
    if (!row) throw new AppError('NOT_FOUND', `execution with id: ${id} not found`);
    const execution = await this.view(row);
    for (const p of new Set(execution.projectIds)) await may(p, 'read');
    const name = caller.kind === 'user' ? caller.username : caller.kind === 'robot' ? caller.name : '';
    if (name !== execution.userName) throw new AppError('FORBIDDEN', '');
    return execution;
  }

  /**
   * Opens the caller's CSV (checked as `getOwn`; NOT_FOUND when its file is gone) and removes the file and
   * the execution once read (Harbor's clean-up).
   */
  async download(caller: Subject, id: number, may: ExportAccess): Promise<ExportFile> {
    const execution = await this.getOwn(caller, id, may);
    if (!execution.filePresent)
      throw new AppError('NOT_FOUND', `no export file for execution ${execution.id}`);
    const path = layout.scanExport(execution.id);
    const body = await this.d.storage.read(path);
    return {
      name: `scandata_export_${execution.id}.csv`,
      body,
      done: async () => {
        await this.d.storage.delete(path).catch(() => undefined);
        await this.d.store.executions(SCAN_EXPORT_VENDOR).delete(execution.id);
      },
    };
  }

  private async validate(scanDataType: string | undefined, criteria: ExportCriteria): Promise<number> {
    if (scanDataType !== REPORT_MIME_TYPE)
      throw new AppError('BAD_REQUEST', `Unsupported MIME type : ${scanDataType ?? ''}`);
    const projects = criteria.projects ?? [];
    if (projects.length !== 1)
      throw new AppError(
        'BAD_REQUEST',
        `only support export single project, invalid value: [${projects.join(' ')}]`,
      );
    const projectId = projects[0]!;
    if (!(await this.d.store.projects.findById(projectId)))
      throw new AppError('NOT_FOUND', `project ${projectId} not found`);
    for (const s of [criteria.repositories, criteria.tags, criteria.cveIds])
      if (s?.includes(' '))
        throw new AppError(
          'BAD_REQUEST',
          `invalid criteria value, please remove additional spaces for input: ${s}`,
        );
    return projectId;
  }

  private async start(
    user: { id: number; name: string },
    projectId: number,
    c: ExportCriteria,
  ): Promise<number> {
    const attrs: ExtraAttrs = { project_ids: [projectId], job_name: c.job_name ?? '', user_name: user.name };
    return this.d.store.transaction(async (tx) => {
      const { id } = await tx
        .executions(SCAN_EXPORT_VENDOR)
        .create(user.id, 'MANUAL', this.d.clock.now().toISOString(), attrs, 'Pending');
      const payload: ScanExportPayload = {
        executionId: id,
        projectId,
        labels: c.labels ?? [],
        repositories: c.repositories ?? '',
        cveIds: c.cveIds ?? '',
        tags: c.tags ?? '',
      };
      await this.d.queue.enqueue(tx, scanExportKind, payload, { executionId: id });
      return id;
    });
  }

  /** The `scan.export` job: selects the artifacts, reads their reports and writes the CSV. */
  async run(p: ScanExportPayload, ctx: JobContext): Promise<void> {
    const { store } = this.d;
    const uuid = await this.d.defaultScanner();
    const artifacts = await selectArtifacts(store, p);
    await ctx.log(`${artifacts.length} artifact(s) selected in project ${p.projectId}`);
    const digests = [...new Set(artifacts.map((a) => a.digest))];
    const reports = new Map<string, VulnerabilityReport>();
    if (uuid) {
      for (let i = 0; i < digests.length; i += 500) {
        const heads = await store.scanReports.ofDigests(digests.slice(i, i + 500), uuid, REPORT_MIME_TYPE);
        const parsed = await reportDocuments(store, heads);
        for (const r of heads) {
          const doc = parsed(r);
          if (doc) reports.set(r.digest, doc);
        }
      }
    }
    const lines = [csvLine(EXPORT_COLUMNS)];
    let count = 0;
    for (const row of exportRows(artifacts, reports, p.cveIds)) {
      lines.push(csvLine(row));
      count++;
    }
    ctx.signal.throwIfAborted();
    await this.d.storage.write(
      layout.scanExport(p.executionId),
      Readable.from([Buffer.from(lines.join(''))]),
    );
    await ctx.log(`wrote ${count} vulnerability row(s)`);
  }

  private async view(r: ExecutionWithJob): Promise<ExportExecution> {
    const attrs = JSON.parse(r.extra_attrs) as ExtraAttrs;
    const status = r.job_status ? executionStatusOfJob[r.job_status] : r.status;
    let filePresent = false;
    if (status === 'Success') {
      try {
        await this.d.storage.stat(layout.scanExport(r.id));
        filePresent = true;
      } catch (err) {
        if (!(err instanceof PathNotFoundError)) throw err;
      }
    }
    return {
      id: r.id,
      userId: r.vendor_id,
      userName: attrs.user_name,
      status,
      statusText:
        status === 'Error'
          ? (attrs.status_message ??
            'Please contact the system administrator to check the logs of jobservice.')
          : '',
      trigger: r.trigger,
      startTime: r.start_time,
      endTime: r.job_end_time ?? r.end_time,
      filePresent,
      projectIds: attrs.project_ids ?? [],
    };
  }
}
