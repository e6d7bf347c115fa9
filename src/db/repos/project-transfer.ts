import type { Kysely } from 'kysely';
import type { Database, LabelRow, RobotRow } from '../tables.js';

export interface TransferArtifactRow {
  id: number;
  digest: string;
  media_type: string;
  manifest_size: number;
  tag: string | null;
}

/** The reads of a project export (services/transfer) that no other repository answers. */
export class ProjectTransferRepo {
  constructor(private readonly db: Kysely<Database>) {}

  repositories(projectId: number): Promise<{ id: number; name: string; description: string }[]> {
    return this.db
      .selectFrom('repository')
      .select(['id', 'name', 'description'])
      .where('project_id', '=', projectId)
      .orderBy('name')
      .execute();
  }

  /**
   * Every artifact of a repository with its tags, one row per tag (tag null when untagged): one
   * statement, so it is one consistent snapshot of the repository while pushes go on.
   */
  artifacts(repositoryId: number): Promise<TransferArtifactRow[]> {
    return this.db
      .selectFrom('artifact as a')
      .leftJoin('tag as t', 't.artifact_id', 'a.id')
      .select(['a.id', 'a.digest', 'a.media_type', 'a.manifest_size', 't.name as tag'])
      .where('a.repository_id', '=', repositoryId)
      .orderBy('a.id')
      .orderBy('t.name')
      .execute();
  }

  projectLabels(projectId: number): Promise<LabelRow[]> {
    return this.db
      .selectFrom('label')
      .selectAll()
      .where('scope', '=', 'p')
      .where('project_id', '=', projectId)
      .orderBy('id')
      .execute();
  }

  projectRobots(projectId: number): Promise<RobotRow[]> {
    return this.db
      .selectFrom('robot')
      .selectAll()
      .where('level', '=', 'project')
      .where('project_id', '=', projectId)
      .orderBy('id')
      .execute();
  }

  /** A global label by name (global labels carry project_id 0). */
  globalLabel(name: string): Promise<LabelRow | undefined> {
    return this.db
      .selectFrom('label')
      .selectAll()
      .where('scope', '=', 'g')
      .where('name', '=', name)
      .executeTakeFirst();
  }

  /** A scanner registration's uuid by its name. */
  async scannerUuid(name: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('scanner_registration')
      .select('uuid')
      .where('name', '=', name)
      .executeTakeFirst();
    return row?.uuid;
  }

  /** A project label by the project's name and the label's. */
  projectLabel(project: string, name: string): Promise<LabelRow | undefined> {
    return this.db
      .selectFrom('label')
      .innerJoin('project', 'project.id', 'label.project_id')
      .selectAll('label')
      .where('label.scope', '=', 'p')
      .where('project.name', '=', project)
      .where('label.name', '=', name)
      .executeTakeFirst();
  }
}
