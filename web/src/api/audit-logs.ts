import { q } from './client';
import { listSource } from './hooks';
import type { AuditLog } from './types';

export type AuditLogField = 'username' | 'resource' | 'operation';

/** Audit logs of the whole system (administrators) or of one project (`projectName`). */
export const auditLogKeys = {
  all: ['audit-logs'] as const,
  list: (projectName: string | undefined, filter: { field: AuditLogField; value: string }) =>
    [...auditLogKeys.all, projectName ?? '*', filter] as const,
};

/** One scope's audit log, `value` matched fuzzily against `field`. */
export function auditLogList(
  projectName: string | undefined,
  filter: { field: AuditLogField; value: string },
) {
  return listSource<AuditLog>(
    auditLogKeys.list(projectName, filter),
    projectName === undefined ? '/audit-logs' : `/projects/${projectName}/logs`,
    { q: q({ [filter.field]: filter.value ? `~${filter.value}` : undefined }) },
  );
}
