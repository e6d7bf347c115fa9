/**
 * System-scope grants a system robot may hold (Harbor's `PoliciesMap[ScopeSystem]` with the
 * `NolimitProvider` additions, rbac.md §5), as `resource:action`.
 */
export const systemRobotGrantable: ReadonlySet<string> = new Set(
  Object.entries({
    'audit-log': 'list',
    'preheat-instance': 'read list create update delete',
    project: 'list create',
    'replication-policy': 'read list create update delete',
    replication: 'read list create',
    'replication-adapter': 'list',
    registry: 'read list create update delete',
    'scan-all': 'read create update stop',
    'system-volumes': 'read',
    'garbage-collection': 'read list create update stop',
    'purge-audit': 'read list create update stop',
    'jobservice-monitor': 'list stop',
    scanner: 'read list create update delete',
    label: 'read create update delete',
    'security-hub': 'read list',
    catalog: 'read',
    quota: 'read list update',
    robot: 'read list create delete',
    user: 'read list create update delete',
    'ldap-user': 'list create',
    'user-group': 'read list create update delete',
  }).flatMap(([r, actions]) => actions.split(' ').map((a) => `${r}:${a}`)),
);
