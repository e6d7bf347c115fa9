import { useQuery } from '@tanstack/react-query';
import { Link, NavLink, Outlet, useOutletContext, useParams } from 'react-router';
import { projectQuery } from '../../api/projects';
import { useProjectPermissions } from '../../api/session';
import type { Project } from '../../api/types';
import { ErrorNote, Spinner } from '../../components/ui';
import { PushCommandMenu } from './push-command-menu';

export interface ProjectContext {
  project: Project;
  can: (resource: string, action: string) => boolean;
}

export function useProjectContext(): ProjectContext {
  return useOutletContext<ProjectContext>();
}

export function useProject(projectId: string | undefined) {
  return useQuery({ ...projectQuery(projectId ?? ''), enabled: !!projectId });
}

const TABS = [
  ['summary', 'Summary', null],
  ['repositories', 'Repositories', null],
  ['members', 'Members', 'member:list'],
  ['robot-account', 'Robot Accounts', 'robot:list'],
  ['labels', 'Labels', 'label:list'],
  ['scanner', 'Scanner', 'scanner:read'],
  ['tag-strategy/tag-retention', 'Policy', 'tag-retention:list'],
  ['tag-strategy/immutable-tag', 'Tag Immutability', 'immutable-tag:list'],
  ['p2p-provider/policies', 'P2P Preheat', 'preheat-policy:list'],
  ['webhook', 'Webhooks', 'notification-policy:list'],
  ['logs', 'Logs', 'log:list'],
  ['configs', 'Configuration', 'configuration:read'],
] as const;

/** A project's header, PUSH COMMAND menu and tabs; each tab is a child route. */
export function ProjectPage() {
  const { projectId } = useParams();
  const project = useProject(projectId);
  const perms = useProjectPermissions(project.data?.project_id);
  if (project.isLoading) return <Spinner />;
  if (project.error) return <ErrorNote error={project.error} title="Could not load the project" />;
  if (!project.data) return null;
  const p = project.data;
  const context: ProjectContext = { project: p, can: perms.can };
  return (
    <>
      <div className="breadcrumb">
        <Link to="/harbor/projects">Projects</Link> /
      </div>
      <div className="spread">
        <h1>
          {p.name} <span className="badge">{p.metadata?.public === 'true' ? 'Public' : 'Private'}</span>
          {p.registry_id ? <span className="badge"> Proxy Cache</span> : null}
        </h1>
        {perms.can('repository', 'push') && !p.registry_id ? <PushCommandMenu projectName={p.name} /> : null}
      </div>
      <nav className="tabs" aria-label="Project">
        {TABS.filter(([, , need]) => {
          if (!need) return true;
          const [resource, action] = need.split(':') as [string, string];
          return perms.can(resource, action);
        }).map(([path, label]) => (
          <NavLink key={path} to={`/harbor/projects/${p.project_id}/${path}`}>
            {label}
          </NavLink>
        ))}
      </nav>
      <Outlet context={context} />
    </>
  );
}
