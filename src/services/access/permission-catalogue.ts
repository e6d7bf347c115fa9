import { AppError } from '../../lib/errors.js';
import type { Subject } from './subject.js';

/** One grantable permission, as the robot dialogs list them. */
export interface Permission {
  resource: string;
  action: string;
}

/** `resource: 'action action …'` pairs, in Harbor's order (rbac PoliciesMap + NolimitProvider, rbac.md §5). */
function expand(list: [string, string][]): Permission[] {
  return list.flatMap(([resource, actions]) => actions.split(' ').map((action) => ({ resource, action })));
}

const system = expand([
  ['audit-log', 'list'],
  ['preheat-instance', 'read create delete list update'],
  ['project', 'list create'],
  ['replication-policy', 'read create delete list update'],
  ['replication', 'read create list'],
  ['replication-adapter', 'list'],
  ['registry', 'read create delete list update'],
  ['scan-all', 'read update stop create'],
  ['system-volumes', 'read'],
  ['garbage-collection', 'read create list update stop'],
  ['purge-audit', 'read create list update stop'],
  ['jobservice-monitor', 'list stop'],
  ['scanner', 'read create delete list update'],
  ['label', 'read create delete update'],
  ['security-hub', 'read list'],
  ['catalog', 'read'],
  ['quota', 'read list'],
  ['robot', 'create read list delete'],
  ['user', 'create read update list delete'],
  ['ldap-user', 'create list'],
  ['quota', 'update'],
  ['user-group', 'create read update list delete'],
]);

const project = expand([
  ['log', 'list'],
  ['project', 'read delete update'],
  ['metadata', 'read create delete list update'],
  ['repository', 'read update delete list pull push'],
  ['artifact', 'read create list delete'],
  ['scan', 'create read stop'],
  ['sbom', 'create stop read'],
  ['tag', 'create list delete'],
  ['accessory', 'list'],
  ['artifact-addition', 'read'],
  ['artifact-label', 'create delete'],
  ['scanner', 'create read'],
  ['preheat-policy', 'read create delete list update'],
  ['immutable-tag', 'create delete list update'],
  ['notification-policy', 'read create delete list update'],
  ['tag-retention', 'read create delete list update'],
  ['label', 'read create delete list update'],
  ['quota', 'read'],
  ['robot', 'create read list delete'],
  ['export-cve', 'create read'],
  ['member', 'create read update list delete'],
]);

/** Everything a robot may be granted, by scope, in Harbor's order. */
export const robotPermissions: { readonly system: Permission[]; readonly project: Permission[] } = {
  system,
  project,
};

/**
 * Harbor's getPermissions: the permissions a robot may be given, for the robot dialogs. A system admin sees
 * both scopes, a project admin (of any project, directly or through a group) the project scope only;
 * anyone else is refused.
 */
export async function permissionCatalogue(
  subject: Subject,
  isProjectAdmin: (userId: number, groupIds: readonly number[]) => Promise<boolean>,
): Promise<{ system?: Permission[]; project: Permission[] }> {
  if (subject.kind === 'anonymous') throw new AppError('UNAUTHORIZED', 'authentication required');
  if (subject.kind === 'user' && subject.sysadmin) return { system, project };
  if (subject.kind === 'user' && (await isProjectAdmin(subject.userId, subject.groupIds))) return { project };
  throw new AppError('FORBIDDEN', 'only admins(system and project) can access permissions');
}
