import type { AccessControl } from '../../services/access/access-control.js';
import type { MemberService } from '../../services/access/members.js';
import type { RobotService } from '../../services/access/robots.js';
import type { UserGroupService } from '../../services/access/user-groups.js';
import type { UserService } from '../../services/access/users.js';
import type { AuditLog } from '../../services/audit/audit-log.js';

/** What the users, members, robots and audit-log operations need. */
export interface IdentityApiDeps {
  access: AccessControl;
  users: UserService;
  members: MemberService;
  robots: RobotService;
  groups: UserGroupService;
  audit: AuditLog;
}
