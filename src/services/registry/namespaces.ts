import type { MetaStore } from '../../db/store.js';
import type { ProjectRow, RepositoryRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { assertRepositoryName, splitRepositoryName } from '../../oci/names.js';

/** Resolves a repository name to its project (the first path segment) and repository rows. */
export class Namespaces {
  constructor(private readonly deps: { store: Pick<MetaStore, 'projects' | 'repositories'>; clock: Clock }) {}

  /** The project a push goes to. A push never creates a project (Harbor's behaviour): NAME_UNKNOWN. */
  async projectForPush(repository: string): Promise<ProjectRow> {
    assertRepositoryName(repository);
    const { project } = splitRepositoryName(repository);
    const row = await this.deps.store.projects.findByName(project);
    if (!row)
      throw new AppError(
        'NAME_UNKNOWN',
        `project ${project} not found: create the project before pushing to ${repository}`,
      );
    return row;
  }

  /** The project of a repository name, or NAME_UNKNOWN. */
  async project(repository: string): Promise<ProjectRow> {
    assertRepositoryName(repository);
    const row = await this.deps.store.projects.findByName(splitRepositoryName(repository).project);
    if (!row) throw new AppError('NAME_UNKNOWN', `repository name not known to registry: ${repository}`);
    return row;
  }

  /** The repository row, or NAME_UNKNOWN. */
  async repository(repository: string): Promise<RepositoryRow> {
    assertRepositoryName(repository);
    const row = await this.deps.store.repositories.findByName(repository);
    if (!row) throw new AppError('NAME_UNKNOWN', `repository name not known to registry: ${repository}`);
    return row;
  }
}
