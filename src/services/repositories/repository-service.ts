import type { RepositoryListRow } from '../../db/repos/repository-catalog.js';
import type { MetaStore } from '../../db/store.js';
import type { ProjectRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { ListQuery, Page } from '../../lib/query.js';
import type { AccessControl } from '../access/access-control.js';
import type { Subject } from '../access/subject.js';
import type { RequestContext } from '../context.js';
import type { EventBus } from '../events.js';
import type { TagProtection } from '../policies/immutability/immutability-service.js';

/** Repositories as Harbor's API shows them: `<project>/<rest>`, described, counted, deletable. */
export class RepositoryService {
  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'repositoryCatalog' | 'tags' | 'transaction'>;
      clock: Clock;
      events: EventBus;
      immutability: TagProtection;
      access: Pick<AccessControl, 'visibleProjects'>;
    },
  ) {}

  /** The repositories of one project, or of every project the subject may see. */
  async list(
    _ctx: RequestContext,
    query: ListQuery,
    where: { projectId: number } | { subject: Subject },
  ): Promise<Page<RepositoryListRow>> {
    const scope =
      'subject' in where ? { scope: await this.deps.access.visibleProjects(where.subject) } : where;
    return this.deps.store.repositoryCatalog.list(query, scope);
  }

  /** `name` is the repository name without the project, as in Harbor's paths. */
  async find(project: ProjectRow, name: string): Promise<RepositoryListRow> {
    const full = `${project.name}/${name}`;
    const row = await this.deps.store.repositoryCatalog.byName(full);
    if (!row) throw new AppError('NOT_FOUND', `repository ${full} not found`);
    return row;
  }

  async updateDescription(_ctx: RequestContext, repo: RepositoryListRow, description: string): Promise<void> {
    if (description.length > 65_536) throw new AppError('BAD_REQUEST', 'description is longer than 64 KiB');
    await this.deps.store.repositoryCatalog.setDescription(
      repo.id,
      description,
      this.deps.clock.now().toISOString(),
    );
  }

  /** Deletes the repository with its artifacts and tags; the bytes wait for garbage collection. */
  async delete(ctx: RequestContext, repo: RepositoryListRow): Promise<void> {
    await this.refuseProtectedTags(repo);
    const outside = await this.deps.store.repositoryCatalog.referencedFromOutside(repo.id);
    if (outside)
      throw new AppError(
        'PRECONDITION',
        `an artifact of ${repo.name} is referenced by ${outside}; delete that first`,
      );
    const artifacts = await this.deps.store.transaction(async (tx) => {
      const blobIds = await tx.blobs.idsReferencedBy({ repositoryId: repo.id });
      const digests = await tx.repositoryCatalog.delete(repo.id);
      await tx.blobs.releaseUnreferenced(repo.project_id, blobIds);
      // Each artifact is deleted as far as event subscribers go (replicated deletions, …).
      for (const digest of digests) {
        await this.deps.events.publish(tx, 'ArtifactDeleted', {
          repository: repo.name,
          digest,
          actor: ctx.actor,
        });
      }
      return digests.length;
    });
    this.deps.events.emit('RepositoryDeleted', { repository: repo.name, artifacts, actor: ctx.actor });
  }

  /** Deleting a repository deletes its tags: PRECONDITION (as Harbor) when a rule protects one. */
  private async refuseProtectedTags(repo: RepositoryListRow): Promise<void> {
    const rules = await this.deps.immutability.matcher(repo.project_id);
    if (rules.empty) return;
    for (let last: string | undefined, page: string[]; ; last = page.at(-1)) {
      page = await this.deps.store.tags.listNames(repo.id, last, 1000);
      rules.assertUnprotected('delete', repo.name, page);
      if (page.length < 1000) return;
    }
  }
}
