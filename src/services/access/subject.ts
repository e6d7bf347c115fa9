/**
 * Who is calling. Resolved once per request by the HTTP layer (basic auth, bearer token, session cookie,
 * or nobody) and passed to every `can()` question. Services never look at credentials, only at this.
 */
export type Subject = AnonymousSubject | UserSubject | RobotSubject;

export interface AnonymousSubject {
  kind: 'anonymous';
}

export interface UserSubject {
  kind: 'user';
  userId: number;
  username: string;
  sysadmin: boolean;
  /** user_group ids (LDAP/OIDC groups) the user belongs to, for group project membership. */
  groupIds: readonly number[];
}

/** One grant of a robot account: a project (or every project, `*`) and resource:action pairs. */
export interface RobotGrant {
  /** Project name, or '*' for all projects (system robot with `namespace: "*"`). */
  namespace: string;
  access: readonly { resource: string; action: string }[];
}

export interface RobotSubject {
  kind: 'robot';
  robotId: number;
  /** Full name as it logs in, e.g. `robot$ci` or `robot$proj+ci`. */
  name: string;
  /** 'system' robots may hold system-level grants; 'project' robots hold one project's. */
  level: 'system' | 'project';
  grants: readonly RobotGrant[];
}

export const anonymous: AnonymousSubject = { kind: 'anonymous' };

/** What a permission question is about: the whole system, or one project's sub-resource. */
export type Target =
  | { scope: 'system'; resource: string }
  | { scope: 'project'; project: { id: number; name: string; public: boolean }; resource: string };

/** Operator name for audit logs: username, robot name, or 'anonymous'. */
export function operatorOf(subject: Subject): string {
  if (subject.kind === 'user') return subject.username;
  if (subject.kind === 'robot') return subject.name;
  return 'anonymous';
}
