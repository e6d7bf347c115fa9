import { useState } from 'react';
import { auditLogList, type AuditLogField } from '../../api/audit-logs';
import { usePagedList } from '../../api/hooks';
import { ListPage } from '../../components/list-page';
import { formatTime } from '../../components/ui';

/** Audit log rows of the system or of one project, filterable by user, resource or operation. */
export function AuditLogTable({ projectName }: { projectName?: string }) {
  const [field, setField] = useState<AuditLogField>('username');
  const [value, setValue] = useState('');
  const list = usePagedList(auditLogList(projectName, { field, value }));
  return (
    <>
      <ListPage
        list={list}
        filters={
          <select
            className="inline"
            aria-label="Filter field"
            value={field}
            onChange={(e) => setField(e.target.value as AuditLogField)}
          >
            <option value="username">Username</option>
            <option value="resource">Resource</option>
            <option value="operation">Operation</option>
          </select>
        }
        search={{ value, onChange: setValue, label: 'Filter value', placeholder: 'Filter' }}
        empty="No log entries."
        columns={
          <>
            <th>Username</th>
            <th>Resource</th>
            <th className="hide-narrow">Resource Type</th>
            <th>Operation</th>
            <th>Timestamp</th>
          </>
        }
        row={(l) => (
          <tr key={l.id}>
            <td>{l.username}</td>
            <td>{l.resource}</td>
            <td className="hide-narrow">{l.resource_type}</td>
            <td>{l.operation}</td>
            <td>{formatTime(l.op_time)}</td>
          </tr>
        )}
      />
    </>
  );
}
