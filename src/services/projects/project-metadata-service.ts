import type { MetaStore } from '../../db/store.js';
import type { ProjectRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { assertFilterKindRemovable, assertFilterMetadata } from '../proxy/repository-filter.js';
import { checkMetadata } from './project-metadata.js';

/**
 * Harbor's per-key project metadata operations (/projects/{p}/metadatas). `public` is the project's own
 * flag, always present: it can be changed but neither added again nor removed.
 */
export class ProjectMetadataService {
  constructor(
    private readonly deps: { store: Pick<MetaStore, 'projectCatalog' | 'transaction'>; clock: Clock },
  ) {}

  async all(project: ProjectRow): Promise<Record<string, string>> {
    const meta = await this.deps.store.projectCatalog.metadata([project.id]);
    return { ...meta.get(project.id), public: project.public ? 'true' : 'false' };
  }

  async get(project: ProjectRow, name: string): Promise<Record<string, string>> {
    const value = (await this.all(project))[name];
    if (value === undefined)
      throw new AppError('NOT_FOUND', `project ${project.name} has no metadata ${name}`);
    return { [name]: value };
  }

  /** Adds keys not set yet; a key that is already set is a CONFLICT and nothing is written. */
  async add(project: ProjectRow, input: Record<string, string>): Promise<void> {
    const values = checkMetadata(input);
    if (Object.keys(values).length === 0) throw new AppError('BAD_REQUEST', 'no metadata given');
    const current = await this.all(project);
    assertFilterMetadata(project.registry_id !== null, values, current);
    const taken = Object.keys(values).filter((k) => current[k] !== undefined);
    if (taken.length > 0)
      throw new AppError('CONFLICT', `project ${project.name} already has metadata ${taken.join(', ')}`);
    await this.write(project, values);
  }

  /** Changes one key that is set; the body names that key and only it. */
  async update(project: ProjectRow, name: string, input: Record<string, string>): Promise<void> {
    if (Object.keys(input).length !== 1 || input[name] === undefined)
      throw new AppError('BAD_REQUEST', `the body must hold exactly the metadata ${name}`);
    const values = checkMetadata(input);
    await this.get(project, name);
    assertFilterMetadata(project.registry_id !== null, values, await this.all(project));
    await this.write(project, values);
  }

  async delete(project: ProjectRow, name: string): Promise<void> {
    if (name === 'public')
      throw new AppError('BAD_REQUEST', 'metadata public cannot be removed; set it to false');
    await this.get(project, name);
    assertFilterKindRemovable(name, await this.all(project));
    await this.deps.store.projectCatalog.deleteMetadata(project.id, name);
  }

  private async write(project: ProjectRow, values: Record<string, string>): Promise<void> {
    const now = this.deps.clock.now().toISOString();
    await this.deps.store.transaction(async (tx) => {
      const { public: pub, ...rest } = values;
      if (pub !== undefined) await tx.projectCatalog.setPublic(project.id, pub === 'true', now);
      else await tx.projectCatalog.touch(project.id, now);
      await tx.projectCatalog.putMetadata(project.id, rest, now);
    });
  }
}
