import { AuditLogTable } from '../shared/audit-log-table';

export function AuditLogsPage() {
  return (
    <>
      <h1>Audit Logs</h1>
      <AuditLogTable />
    </>
  );
}
