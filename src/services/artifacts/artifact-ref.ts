import type { RepositoryListRow } from '../../db/repos/repository-catalog.js';
import type { MetaStore } from '../../db/store.js';
import type { ArtifactRow, ProjectRow } from '../../db/tables.js';
import { AppError } from '../../lib/errors.js';
import { isDigestString } from '../../oci/digest.js';

/** An artifact as an API path names it: its project (authorized by the caller), repository and reference. */
export interface ArtifactRef {
  project: ProjectRow;
  /** The repository name without the project, as in Harbor's paths. */
  repository: string;
  /** A tag or a digest. */
  reference: string;
}

type Store = Pick<MetaStore, 'artifacts' | 'repositoryCatalog'>;

/** `name` is the repository name without the project; NOT_FOUND when there is none such. */
export async function findRepository(
  store: Store,
  project: ProjectRow,
  name: string,
): Promise<RepositoryListRow> {
  const full = `${project.name}/${name}`;
  const row = await store.repositoryCatalog.byName(full);
  if (!row) throw new AppError('NOT_FOUND', `repository ${full} not found`);
  return row;
}

/** By digest or tag; NOT_FOUND otherwise. */
export async function findArtifact(
  store: Store,
  repo: RepositoryListRow,
  reference: string,
): Promise<ArtifactRow> {
  const row = isDigestString(reference)
    ? await store.artifacts.findByDigest(repo.id, reference)
    : await store.artifacts.findByTag(repo.id, reference);
  if (!row)
    throw new AppError(
      'NOT_FOUND',
      `artifact ${repo.name}${isDigestString(reference) ? '@' : ':'}${reference} not found`,
    );
  return row;
}

/** The repository and artifact a reference names; NOT_FOUND for either. */
export async function resolveArtifact(
  store: Store,
  ref: ArtifactRef,
): Promise<{ repo: RepositoryListRow; row: ArtifactRow }> {
  const repo = await findRepository(store, ref.project, ref.repository);
  return { repo, row: await findArtifact(store, repo, ref.reference) };
}
