/**
 * Harbor's project role matrix as data (Harbor v2.16 `rbac_role.go`, `rbac_util.go`, `rbac/const.go`).
 * Each row: resource, action, and who holds it — A projectAdmin, M maintainer, D developer, G guest,
 * L limitedGuest, P anyone on a public project, R grantable to a project-level robot.
 * `project` is the project itself (Harbor's empty sub-resource).
 */
export type ProjectRole = 'projectAdmin' | 'maintainer' | 'developer' | 'guest' | 'limitedGuest';

/** Harbor's `role_id` values in the members API. */
export const roleIds: Record<ProjectRole, number> = {
  projectAdmin: 1,
  developer: 2,
  guest: 3,
  maintainer: 4,
  limitedGuest: 5,
};

export function roleById(id: number): ProjectRole | undefined {
  return (Object.keys(roleIds) as ProjectRole[]).find((r) => roleIds[r] === id);
}

const matrix: readonly (readonly [resource: string, action: string, holders: string])[] = [
  ['project', 'read', 'AMDGLPR'],
  ['project', 'update', 'AR'],
  ['project', 'delete', 'AR'],
  ['member', 'read', 'AMDGR'],
  ['member', 'list', 'AMDGR'],
  ['member', 'create', 'AR'],
  ['member', 'update', 'AR'],
  ['member', 'delete', 'AR'],
  ['metadata', 'read', 'AMR'],
  ['metadata', 'list', 'R'],
  ['metadata', 'create', 'AR'],
  ['metadata', 'update', 'AR'],
  ['metadata', 'delete', 'AR'],
  ['log', 'list', 'AR'],
  ['label', 'read', 'AMDGPR'],
  ['label', 'list', 'AMDGPR'],
  ['label', 'create', 'AMR'],
  ['label', 'update', 'AMR'],
  ['label', 'delete', 'AMR'],
  ['quota', 'read', 'AMDGLR'],
  ['repository', 'read', 'AMDGLR'],
  ['repository', 'list', 'AMDGLPR'],
  ['repository', 'create', 'AMD'],
  ['repository', 'update', 'AMDR'],
  ['repository', 'delete', 'AMR'],
  ['repository', 'pull', 'AMDGLPR'],
  ['repository', 'push', 'AMDR'],
  ['tag-retention', 'read', 'AMDR'],
  ['tag-retention', 'list', 'AMDR'],
  ['tag-retention', 'create', 'AMDR'],
  ['tag-retention', 'update', 'AMDR'],
  ['tag-retention', 'delete', 'AMDR'],
  ['tag-retention', 'operate', 'AMD'],
  ['immutable-tag', 'list', 'AMR'],
  ['immutable-tag', 'create', 'AMR'],
  ['immutable-tag', 'update', 'AMR'],
  ['immutable-tag', 'delete', 'AMR'],
  ['configuration', 'read', 'AMDGL'],
  ['configuration', 'update', 'A'],
  ['robot', 'read', 'AMDGR'],
  ['robot', 'list', 'AMDGR'],
  ['robot', 'create', 'AR'],
  ['robot', 'update', 'A'],
  ['robot', 'delete', 'AR'],
  ['notification-policy', 'read', 'AMR'],
  ['notification-policy', 'list', 'AMR'],
  ['notification-policy', 'create', 'AR'],
  ['notification-policy', 'update', 'AR'],
  ['notification-policy', 'delete', 'AR'],
  ['scan', 'read', 'AMDGLPR'],
  ['scan', 'create', 'AMR'],
  ['scan', 'stop', 'AMR'],
  ['sbom', 'read', 'AMDGLR'],
  ['sbom', 'create', 'AMR'],
  ['sbom', 'stop', 'AMR'],
  ['scanner', 'read', 'AMDGLPR'],
  ['scanner', 'create', 'AR'],
  ['artifact', 'read', 'AMDGLPR'],
  ['artifact', 'list', 'AMDGLPR'],
  ['artifact', 'create', 'AMDR'],
  ['artifact', 'delete', 'AMR'],
  ['artifact-addition', 'read', 'AMDGLPR'],
  ['tag', 'list', 'AMDGLPR'],
  ['tag', 'create', 'AMDR'],
  ['tag', 'delete', 'AMR'],
  ['accessory', 'list', 'AMDGLPR'],
  ['artifact-label', 'create', 'AMDR'],
  ['artifact-label', 'delete', 'AMDR'],
  ['preheat-policy', 'read', 'AR'],
  ['preheat-policy', 'list', 'AR'],
  ['preheat-policy', 'create', 'AR'],
  ['preheat-policy', 'update', 'AR'],
  ['preheat-policy', 'delete', 'AR'],
  ['export-cve', 'read', 'AMDR'],
  ['export-cve', 'list', 'AMD'],
  ['export-cve', 'create', 'AMDR'],
];

const letter: Record<ProjectRole | 'public' | 'robot', string> = {
  projectAdmin: 'A',
  maintainer: 'M',
  developer: 'D',
  guest: 'G',
  limitedGuest: 'L',
  public: 'P',
  robot: 'R',
};

function policiesOf(holder: keyof typeof letter): ReadonlySet<string> {
  const l = letter[holder];
  return new Set(matrix.filter(([, , h]) => h.includes(l)).map(([r, a]) => `${r}:${a}`));
}

/** 'resource:action' sets, built once from the matrix. */
export const projectPolicies: Record<ProjectRole, ReadonlySet<string>> = {
  projectAdmin: policiesOf('projectAdmin'),
  maintainer: policiesOf('maintainer'),
  developer: policiesOf('developer'),
  guest: policiesOf('guest'),
  limitedGuest: policiesOf('limitedGuest'),
};
export const publicProjectPolicies = policiesOf('public');
export const projectRobotGrantable = policiesOf('robot');

/** Every (resource, action) pair the matrix knows, for validating robot permissions and tests. */
export const projectMatrix = matrix;

/** True when any of the roles (union, as Harbor evaluates) or public access grants resource:action. */
export function rolesAllow(
  roles: Iterable<ProjectRole>,
  isPublic: boolean,
  resource: string,
  action: string,
): boolean {
  const key = `${resource}:${action}`;
  if (isPublic && publicProjectPolicies.has(key)) return true;
  for (const role of roles) if (projectPolicies[role].has(key)) return true;
  return false;
}
