import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { repositoryQuery } from '../../api/repositories';
import { useProjectPermissions } from '../../api/session';
import { ErrorNote, Spinner } from '../../components/ui';
import { ArtifactPage } from '../artifact/artifact-page';
import { useProject } from '../project/project-page';
import { ArtifactsTable } from './artifacts-table';
import { RepositoryDescription } from './repository-description';

/**
 * /harbor/projects/:id/repositories/<name…>/artifacts-tab[/artifacts/<digest>]: repository names contain
 * slashes, so the route is a splat parsed here.
 */
export function RepositoryRoute() {
  const { projectId, '*': rest = '' } = useParams();
  const project = useProject(projectId);
  const perms = useProjectPermissions(project.data?.project_id);
  const m = /^(.*?)\/artifacts-tab(?:\/artifacts\/([^/]+))?\/?$/.exec(rest);
  const repo = m?.[1] ?? rest.replace(/\/$/, '');
  const digest = m?.[2];
  if (project.isLoading) return <Spinner />;
  if (project.error || !project.data)
    return <ErrorNote error={project.error} title="Could not load the project" />;
  const ctx = { project: project.data, repo, can: perms.can };
  return digest ? (
    <ArtifactPage {...ctx} reference={decodeURIComponent(digest)} />
  ) : (
    <RepositoryPage {...ctx} />
  );
}

export interface RepoContext {
  project: { project_id: number; name: string };
  repo: string;
  can: (resource: string, action: string) => boolean;
}

function RepositoryPage(ctx: RepoContext) {
  const { project, repo } = ctx;
  const repository = useQuery(repositoryQuery(project.name, repo));
  return (
    <>
      <div className="breadcrumb">
        <Link to="/harbor/projects">Projects</Link> /{' '}
        <Link to={`/harbor/projects/${project.project_id}/repositories`}>{project.name}</Link> /
      </div>
      <h1>
        {project.name}/{repo}
      </h1>
      {repository.error ? <ErrorNote error={repository.error} title="Could not load the repository" /> : null}
      {repository.data ? <RepositoryDescription ctx={ctx} repository={repository.data} /> : null}
      <h2>Artifacts</h2>
      <ArtifactsTable ctx={ctx} />
    </>
  );
}
