import type { MetaStore, Repos } from '../../../db/store.js';
import type { Clock } from '../../../lib/clock.js';
import { AppError } from '../../../lib/errors.js';
import type { RequestContext } from '../../context.js';
import type { EventBus } from '../../events.js';
import { assertStorageLimit, overflow, quotaExceededMessage } from './storage-limit.js';

export interface QuotaProject {
  id: number;
  name: string;
}

export interface BlobRef {
  digest: string;
  size: number;
}

/**
 * Storage quotas: each blob counts once per project (Harbor's accounting), the limit is checked on every
 * new link. `precheck` refuses before any byte moves; `link` decides, inside the push's transaction, where
 * the quota row update serialises concurrent pushes into one project, so a burst cannot overshoot.
 */
export class QuotaService {
  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'blobs' | 'projectCatalog'>;
      events: EventBus;
      clock: Clock;
    },
  ) {}

  /** Refuses early when the blobs the project lacks would not fit; not atomic (`link` is). */
  async precheck(
    ctx: RequestContext,
    project: QuotaProject,
    repository: string,
    blobs: readonly BlobRef[],
  ): Promise<void> {
    const row = (await this.deps.store.projectCatalog.quotaRows([project.id])).get(project.id);
    const hard = row?.hard_storage ?? -1;
    if (hard === -1) return;
    const used = row?.used_storage ?? 0;
    const missing = new Set(
      await this.deps.store.blobs.missingInProject(
        project.id,
        blobs.map((b) => b.digest),
      ),
    );
    const adding = sizeOf(blobs.filter((b) => missing.has(b.digest)));
    if (overflow(hard, used, adding))
      this.refuse(ctx, project, repository, blobs[0]!.digest, hard, used, adding);
  }

  /** Links the blobs to the project in `tx`, charging each new link; refuses (rolling `tx` back) past the limit. */
  async link(
    ctx: RequestContext,
    tx: Repos,
    project: QuotaProject,
    repository: string,
    blobs: readonly BlobRef[],
  ): Promise<void> {
    const now = this.deps.clock.now().toISOString();
    let added = 0;
    for (const blob of blobs) {
      const usage = await tx.blobs.link(project.id, blob.digest, blob.size, now);
      if (!usage) continue;
      added += blob.size;
      if (usage.hard !== -1 && usage.used > usage.hard)
        this.refuse(ctx, project, repository, blob.digest, usage.hard, usage.used - added, added);
    }
  }

  /** PUT /quotas/{id}: `hard` is Harbor's resource list; only `storage` exists. */
  async setHard(
    _ctx: RequestContext,
    projectId: number,
    hard: Record<string, unknown> | undefined,
  ): Promise<void> {
    if (!hard || Object.keys(hard).length === 0) throw new AppError('BAD_REQUEST', 'hard required in body');
    for (const name of Object.keys(hard))
      if (name !== 'storage')
        throw new AppError('BAD_REQUEST', `hard.${name.slice(0, 64)}: resource not supported`);
    const limit = assertStorageLimit('hard.storage', hard.storage);
    await this.deps.store.projectCatalog.setQuota(projectId, limit, this.deps.clock.now().toISOString());
  }

  private refuse(
    ctx: RequestContext,
    project: QuotaProject,
    repository: string,
    digest: string,
    hard: number,
    used: number,
    adding: number,
  ): never {
    const message = quotaExceededMessage(project.name, hard, used, adding);
    ctx.log.info({ project: project.name, repository, digest, hard, used, adding }, 'quota exceeded');
    this.deps.events.emit('QuotaExceeded', {
      projectId: project.id,
      repository,
      digest,
      hard,
      used,
      adding,
      actor: ctx.actor,
    });
    throw new AppError('DENIED', message);
  }
}

function sizeOf(blobs: readonly BlobRef[]): number {
  const seen = new Map(blobs.map((b) => [b.digest, b.size]));
  let n = 0;
  for (const size of seen.values()) n += size;
  return n;
}
