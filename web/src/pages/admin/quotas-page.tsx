import { useState } from 'react';
import { Link } from 'react-router';
import { usePagedList } from '../../api/hooks';
import { quotaList } from '../../api/quotas';
import type { Quota } from '../../api/types';
import { ListPage } from '../../components/list-page';
import { formatBytes } from '../../components/ui';
import { limitText } from '../projects/projects-page';
import { QuotaDialog } from './quota-dialog';

/** How full a project is, in words: what a person needs to know before a push is refused. */
export function quotaState(used: number, hard: number | undefined): string {
  if (hard === undefined || hard < 0) return 'No limit';
  if (used >= hard) return 'Full: pushes are refused';
  return `${Math.round((used / hard) * 100)}% used`;
}

/** Administration → Project Quotas: every project's storage use and limit, with an edit action. */
export function QuotasPage() {
  const [editing, setEditing] = useState<Quota | null>(null);
  const list = usePagedList(quotaList());
  return (
    <>
      <h1>Project Quotas</h1>
      <ListPage
        list={list}
        empty="No projects."
        tableLabel="Project quotas"
        columns={
          <>
            <th>Project</th>
            <th className="hide-narrow">Owner</th>
            <th>Used</th>
            <th>Limit</th>
            <th>State</th>
            <th aria-label="Actions" />
          </>
        }
        row={(q) => {
          const used = q.used?.storage ?? 0;
          return (
            <tr key={q.id}>
              <td>
                <Link to={`/harbor/projects/${q.ref?.id ?? q.id}/summary`}>{q.ref?.name}</Link>
              </td>
              <td className="hide-narrow">{q.ref?.owner_name}</td>
              <td>{formatBytes(used)}</td>
              <td>{limitText(q.hard?.storage)}</td>
              <td>{quotaState(used, q.hard?.storage)}</td>
              <td>
                <button
                  type="button"
                  className="btn btn-small"
                  aria-label={`Edit quota of ${q.ref?.name ?? q.id}`}
                  onClick={() => setEditing(q)}
                >
                  Edit
                </button>
              </td>
            </tr>
          );
        }}
      />
      {editing ? (
        <QuotaDialog
          projectId={editing.id}
          projectName={editing.ref?.name ?? String(editing.id)}
          hard={editing.hard?.storage}
          onClose={() => setEditing(null)}
        />
      ) : null}
    </>
  );
}
