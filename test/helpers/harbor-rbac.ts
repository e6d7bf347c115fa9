import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { swaggerPath } from './harbor-swagger.js';

/**
 * Harbor's project role matrix, read at test time from the shared reference next to the checkout
 * (`<checkout>/../shared/harbor-api/rbac.md`, section 4, generated from Harbor's Go source) — never from
 * Berth's own table, so a test built on it checks Berth against Harbor, not against itself.
 */
export const rbacPath = join(dirname(swaggerPath), 'rbac.md');

export const harborRoles = ['projectAdmin', 'maintainer', 'developer', 'guest', 'limitedGuest'] as const;
export type HarborRole = (typeof harborRoles)[number];

/** Harbor's `role_id` of each role in the members API (rbac.md section 3). */
export const harborRoleIds: Record<HarborRole, number> = {
  projectAdmin: 1,
  developer: 2,
  guest: 3,
  maintainer: 4,
  limitedGuest: 5,
};

export interface MatrixRow {
  /** `project` for Harbor's "(project itself)" row (the empty sub-resource), else the resource name. */
  resource: string;
  action: string;
  /** `resource:action`. */
  key: string;
  roles: Record<HarborRole, boolean>;
  /** Held by anyone (anonymous included) on a public project. */
  publicProject: boolean;
  /** Grantable to a project-level robot. */
  projectRobot: boolean;
}

/** The rows of rbac.md's project role matrix, or undefined when the reference is not there. */
export function readHarborMatrix(path = rbacPath): MatrixRow[] | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf('## 4. Project role matrix');
  const end = text.indexOf('\n## ', start + 1);
  if (start < 0) throw new Error(`${path}: no "## 4. Project role matrix" section`);
  const lines = text
    .slice(start, end < 0 ? undefined : end)
    .split('\n')
    .filter((l) => l.startsWith('|'));
  const cells = (l: string) =>
    l
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
  const header = cells(lines[0]!);
  const column = (name: string) => {
    const i = header.findIndex((h) => h.startsWith(name));
    if (i < 0) throw new Error(`${path}: matrix has no "${name}" column (header: ${header.join(', ')})`);
    return i;
  };
  const at = {
    resource: column('resource'),
    action: column('action'),
    public: column('public project'),
    robot: column('project robot'),
    ...Object.fromEntries(harborRoles.map((r) => [r, column(r)])),
  } as Record<HarborRole | 'resource' | 'action' | 'public' | 'robot', number>;
  const mark = (c: string | undefined, where: string) => {
    if (c === '✓') return true;
    if (c === '·') return false;
    throw new Error(`${path}: unexpected cell "${c}" in ${where}`);
  };
  const rows: MatrixRow[] = [];
  for (const line of lines.slice(2)) {
    const c = cells(line);
    const raw = c[at.resource]!;
    const resource = raw.startsWith('*(project itself)') ? 'project' : raw.replace(/`/g, '');
    const action = c[at.action]!;
    const key = `${resource}:${action}`;
    rows.push({
      resource,
      action,
      key,
      roles: Object.fromEntries(harborRoles.map((r) => [r, mark(c[at[r]], key)])) as Record<
        HarborRole,
        boolean
      >,
      publicProject: mark(c[at.public], key),
      projectRobot: mark(c[at.robot], key),
    });
  }
  return rows;
}

export interface SystemGrantRow {
  resource: string;
  /** Actions a system robot may be granted on it. */
  grantable: string[];
  /** Actions `system/policies.go` lists for the UI (not a grant list). */
  listed: string[];
}

/** rbac.md §5: the system-scope permissions a system robot may be granted, per system resource. */
export function readSystemRobotGrants(path = rbacPath): SystemGrantRow[] | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf('| system resource |');
  if (start < 0) throw new Error(`${path}: no "system resource" table in §5`);
  const end = text.indexOf('\n\n', start);
  const actions = (c: string | undefined) => (!c || c === '—' ? [] : c.split(',').map((a) => a.trim()));
  return text
    .slice(start, end < 0 ? undefined : end)
    .split('\n')
    .slice(2)
    .filter((l) => l.startsWith('|'))
    .map((l) => {
      const c = l
        .split('|')
        .slice(1, -1)
        .map((x) => x.trim());
      return { resource: c[0]!.replace(/`/g, ''), grantable: actions(c[1]), listed: actions(c[2]) };
    });
}
