import { useState } from 'react';
import { q } from '../../api/client';
import { usePagedList } from '../../api/hooks';
import type { AuditLog } from '../../api/types';
import { Empty, ErrorNote, formatTime, Pager, Spinner } from '../../components/ui';

/** Audit log rows from /audit-logs or /projects/{name}/logs, filterable by user, resource or operation. */
export function AuditLogTable({ path, keyPrefix }: { path: string; keyPrefix: unknown[] }) {
  const [field, setField] = useState<'username' | 'resource' | 'operation'>('username');
  const [value, setValue] = useState('');
  const list = usePagedList<AuditLog>(keyPrefix, path, {
    q: q({ [field]: value ? `~${value}` : undefined }),
  });
  return (
    <>
      <div className="toolbar">
        <div className="grow" />
        <select
          className="inline"
          aria-label="Filter field"
          value={field}
          onChange={(e) => setField(e.target.value as typeof field)}
        >
          <option value="username">Username</option>
          <option value="resource">Resource</option>
          <option value="operation">Operation</option>
        </select>
        <input
          className="search"
          type="search"
          aria-label="Filter value"
          placeholder="Filter"
          value={value}
          onChange={(e) => {
            setValue(e.target.value);
            list.setPage(1);
          }}
        />
      </div>
      {list.isLoading ? (
        <Spinner />
      ) : list.error ? (
        <ErrorNote error={list.error} />
      ) : list.data?.items.length === 0 ? (
        <Empty>No log entries.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Username</th>
                <th>Resource</th>
                <th className="hide-narrow">Resource Type</th>
                <th>Operation</th>
                <th>Timestamp</th>
              </tr>
            </thead>
            <tbody>
              {list.data?.items.map((l) => (
                <tr key={l.id}>
                  <td>{l.username}</td>
                  <td>{l.resource}</td>
                  <td className="hide-narrow">{l.resource_type}</td>
                  <td>{l.operation}</td>
                  <td>{formatTime(l.op_time)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data ? (
        <Pager page={list.page} pageSize={list.pageSize} total={list.data.total} onPage={list.setPage} />
      ) : null}
    </>
  );
}
