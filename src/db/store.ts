import type { Kysely } from 'kysely';
import { ArtifactRepo } from './repos/artifacts.js';
import { BlobRepo } from './repos/blobs.js';
import { JobRepo } from './repos/jobs.js';
import { ProjectRepo } from './repos/projects.js';
import { RepositoryRepo } from './repos/repositories.js';
import { ScheduleRepo } from './repos/schedules.js';
import { TagRepo } from './repos/tags.js';
import { UploadRepo } from './repos/uploads.js';
import type { Database } from './tables.js';

/** The repositories over one Kysely handle (the pool, or a transaction). */
export class Repos {
  readonly projects: ProjectRepo;
  readonly repositories: RepositoryRepo;
  readonly blobs: BlobRepo;
  readonly artifacts: ArtifactRepo;
  readonly tags: TagRepo;
  readonly uploads: UploadRepo;
  readonly jobs: JobRepo;
  readonly schedules: ScheduleRepo;

  constructor(db: Kysely<Database>) {
    this.projects = new ProjectRepo(db);
    this.repositories = new RepositoryRepo(db);
    this.blobs = new BlobRepo(db);
    this.artifacts = new ArtifactRepo(db);
    this.tags = new TagRepo(db);
    this.uploads = new UploadRepo(db);
    this.jobs = new JobRepo(db);
    this.schedules = new ScheduleRepo(db);
  }
}

/** What services see of the metadata database: repositories, and a unit of work across them. */
export class MetaStore extends Repos {
  constructor(private readonly db: Kysely<Database>) {
    super(db);
  }

  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => fn(new Repos(trx)));
  }
}
