import type { AuditScope } from '../../db/repos/audit.js';
import type { MetaStore } from '../../db/store.js';
import type { NewAuditLog } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import type { Log } from '../../lib/logger.js';
import type { ListQuery } from '../../lib/query.js';
import { robotHolds, type AccessControl } from '../access/access-control.js';
import type { Subject } from '../access/subject.js';

export interface AuditEntry {
  /** Project by name (registry paths) or id (API paths); resolved when the batch is written. */
  project?: { name: string } | { id: number } | undefined;
  operation: string;
  resourceType: string;
  resource: string;
  username: string;
  clientIp: string;
  userAgent: string;
  success: boolean;
}

/**
 * The audit log. Entries are buffered and written in batches off the request path, so a pull never
 * waits on a database write; `stop()` writes what is left. A batch that cannot be written is logged and
 * dropped rather than blocking requests.
 */
export class AuditLog {
  private buffer: (AuditEntry & { time: string })[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'audit' | 'projects'>;
      access: Pick<AccessControl, 'can' | 'visibleProjects'>;
      clock: Clock;
      log: Log;
      intervalMs: number;
      maxBuffer?: number;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.deps.intervalMs);
    this.timer.unref();
  }

  record(entry: AuditEntry): void {
    this.buffer.push({ ...entry, time: this.deps.clock.now().toISOString() });
    if (this.buffer.length >= (this.deps.maxBuffer ?? 1000)) void this.flush();
  }

  /** Writes the buffered entries (one insert per batch). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  /**
   * The rows the subject may read: every row for a system administrator (or a robot granted the system
   * audit log), else the rows of the projects where it may list logs (a Limited Guest may not).
   */
  async listFor(subject: Subject, query: ListQuery) {
    return this.deps.store.audit.list(await this.scopeOf(subject), query);
  }

  /** One project's rows (the caller has checked the subject may list its logs). */
  listOfProject(projectId: number, query: ListQuery) {
    return this.deps.store.audit.list({ projectIds: [projectId] }, query);
  }

  private async scopeOf(subject: Subject): Promise<AuditScope> {
    if (subject.kind === 'user' && subject.sysadmin) return 'all';
    if (subject.kind === 'robot' && robotHolds(subject, '/', 'audit-log', 'list')) return 'all';
    const visible = await this.deps.access.visibleProjects(subject);
    if (visible === 'all') return 'all';
    const projectIds: number[] = [];
    for (const id of visible.ids) {
      const row = await this.deps.store.projects.findById(id);
      const project = row && { id: row.id, name: row.name, public: row.public === 1 };
      if (
        project &&
        (await this.deps.access.can(subject, 'list', { scope: 'project', project, resource: 'log' }))
      )
        projectIds.push(id);
    }
    return { projectIds };
  }

  private async write(): Promise<void> {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    try {
      const byName = new Map<string, number | null>();
      const rows: NewAuditLog[] = [];
      for (const e of batch) {
        let projectId: number | null = null;
        if (e.project && 'id' in e.project) projectId = e.project.id;
        else if (e.project) {
          if (!byName.has(e.project.name))
            byName.set(
              e.project.name,
              (await this.deps.store.projects.findByName(e.project.name))?.id ?? null,
            );
          projectId = byName.get(e.project.name)!;
        }
        rows.push({
          project_id: projectId,
          operation: e.operation,
          resource_type: e.resourceType,
          resource: e.resource.slice(0, 1024),
          username: e.username.slice(0, 255),
          client_ip: e.clientIp.slice(0, 64),
          user_agent: e.userAgent.slice(0, 512),
          success: e.success ? 1 : 0,
          op_time: e.time,
        });
      }
      await this.deps.store.audit.insertMany(rows);
    } catch (err) {
      this.deps.log.error({ err, dropped: batch.length }, 'could not write audit log entries');
    }
  }
}
