import { robotPermissions } from './permission-catalogue.js';

/**
 * System-scope grants a system robot may hold (Harbor's `PoliciesMap[ScopeSystem]` with the
 * `NolimitProvider` additions, rbac.md §5), as `resource:action`.
 */
export const systemRobotGrantable: ReadonlySet<string> = new Set(
  robotPermissions.system.map((p) => `${p.resource}:${p.action}`),
);
