import type { ProjectScope } from '../../db/repos/project-catalog.js';
import type { MetaStore } from '../../db/store.js';
import type { ProjectRow } from '../../db/tables.js';
import { permissionCatalogue } from './permission-catalogue.js';
import { roleById, roleIds, rolesAllow, type ProjectRole } from './rbac.js';
import type { RobotSubject, Subject, Target, UserSubject } from './subject.js';

/**
 * System-scope permissions every signed-in user holds without being an admin (Harbor: anyone may create a
 * project unless restricted, search users and groups to add members, and list the audit log of projects
 * they can see).
 */
const userSystemPolicies = new Set(['project:create', 'user:search', 'user-group:search', 'audit-log:list']);

export type ProjectAccess = 'allowed' | 'hidden' | 'denied';

/**
 * The one place that answers "may this subject do this?", after Harbor's evaluators: a sysadmin may do
 * everything; a user holds the union of its direct and group roles in a project plus the public-project
 * policies; anonymous holds only the public-project policies; a robot holds its grants.
 */
export class AccessControl {
  constructor(private readonly deps: { store: Pick<MetaStore, 'members' | 'projects'> }) {}

  async can(subject: Subject, action: string, target: Target): Promise<boolean> {
    if (subject.kind === 'user' && subject.sysadmin) return true;
    if (target.scope === 'system') {
      if (subject.kind === 'user') return userSystemPolicies.has(`${target.resource}:${action}`);
      if (subject.kind === 'robot') return robotHolds(subject, '/', target.resource, action);
      return false;
    }
    return (await this.policyIn(subject, target.project))(target.resource, action);
  }

  /**
   * The one rule by which every surface hides a private project. `hidden` when the project does not
   * exist or the subject may not even see it (`probe`: read the project on /api, pull from it on /v2),
   * whatever else it holds there, so the caller answers exactly as for a missing project; then `allowed`
   * when the subject may do `action` on the project's `resource`, `denied` otherwise.
   */
  async projectAccess(
    subject: Subject,
    project: Pick<ProjectRow, 'id' | 'name' | 'public'> | undefined,
    action: string,
    resource: string,
    probe: { action: string; resource: string } = { action: 'read', resource: 'project' },
  ): Promise<ProjectAccess> {
    if (!project) return 'hidden';
    const may = await this.policyIn(subject, { ...project, public: project.public === 1 });
    if (!may(probe.resource, probe.action)) return 'hidden';
    return may(resource, action) ? 'allowed' : 'denied';
  }

  /**
   * `projectAccess` as /v2 asks it: `action` on a repository (`<project>/...`) of the project its name
   * starts with, hidden unless the subject may pull from that project.
   */
  async repositoryAccess(subject: Subject, repository: string, action: string): Promise<ProjectAccess> {
    const row = await this.deps.store.projects.findByName(repository.split('/', 1)[0]!);
    return this.projectAccess(subject, row, action, 'repository', { action: 'pull', resource: 'repository' });
  }

  /** What the subject may do inside one project, its roles read once. */
  private async policyIn(
    subject: Subject,
    project: { id: number; name: string; public: boolean },
  ): Promise<(resource: string, action: string) => boolean> {
    if (subject.kind === 'user' && subject.sysadmin) return () => true;
    if (subject.kind === 'robot')
      return (resource, action) =>
        (project.public && rolesAllow([], true, resource, action)) ||
        robotHolds(subject, project.name, resource, action);
    const roles = subject.kind === 'user' ? await this.roles(subject, project.id) : [];
    return (resource, action) => rolesAllow(roles, project.public, resource, action);
  }

  /** The user's roles in the project: direct membership and every group membership. */
  async roles(subject: UserSubject, projectId: number): Promise<ProjectRole[]> {
    const ids = await this.deps.store.members.roleIds(projectId, subject.userId, subject.groupIds);
    return ids.map(roleById).filter((r): r is ProjectRole => r !== undefined);
  }

  /** The permissions a robot may be given, as the caller may see them (Harbor's getPermissions). */
  permissionCatalogue(subject: Subject): ReturnType<typeof permissionCatalogue> {
    return permissionCatalogue(subject, (userId, groupIds) =>
      this.deps.store.members.holdsRoleAnywhere(userId, groupIds, roleIds.projectAdmin),
    );
  }

  /** Members of a project by role (project summary). */
  async memberCounts(projectId: number): Promise<Record<ProjectRole, number>> {
    const byId = await this.deps.store.members.countsByRole(projectId);
    const out: Record<ProjectRole, number> = {
      projectAdmin: 0,
      maintainer: 0,
      developer: 0,
      guest: 0,
      limitedGuest: 0,
    };
    for (const [id, n] of byId) {
      const role = roleById(id);
      if (role) out[role] += n;
    }
    return out;
  }

  /**
   * Projects whose content the subject may see: 'all' for sysadmins and robots granted every project,
   * otherwise ids of public projects, member projects, and projects a robot is granted.
   */
  async visibleProjects(subject: Subject): Promise<ProjectScope> {
    if (subject.kind === 'user' && subject.sysadmin) return 'all';
    const ids = new Set<number>();
    if (subject.kind === 'user') {
      for (const id of await this.deps.store.members.projectIds(subject.userId, subject.groupIds))
        ids.add(id);
    } else if (subject.kind === 'robot') {
      if (subject.grants.some((g) => g.namespace === '*')) return 'all';
      for (const g of subject.grants) {
        if (g.namespace === '/') continue;
        const row = await this.deps.store.projects.findByName(g.namespace);
        if (row) ids.add(row.id);
      }
    }
    return { ids: [...ids], publicToo: true };
  }
}

/** True when one of the robot's grants for the project (or for every project) holds resource:action. */
export function robotHolds(
  robot: RobotSubject,
  namespace: string,
  resource: string,
  action: string,
): boolean {
  return robot.grants.some(
    (g) =>
      (g.namespace === namespace || (g.namespace === '*' && namespace !== '/')) &&
      g.access.some(
        (a) =>
          (a.resource === resource || a.resource === '*') &&
          (a.action === action ||
            a.action === '*' ||
            (resource === 'repository' && action === 'pull' && a.action === 'push')),
      ),
  );
}
