import { useState } from 'react';
import { api, apiCreate } from '../../api/client';
import { useAction, usePagedList } from '../../api/hooks';
import type { ReplicationPolicy } from '../../api/types';
import { ConfirmDialog, Empty, ErrorNote, Pager, Spinner } from '../../components/ui';
import { ExecutionsPanel } from './replication-executions';
import { PolicyDialog } from './replication-policy-dialog';

/** Administration → Replications: rules (filters, trigger, destination), REPLICATE, and their executions. */
export function ReplicationsPage() {
  const [editing, setEditing] = useState<ReplicationPolicy | 'new' | null>(null);
  const [deleting, setDeleting] = useState<ReplicationPolicy | null>(null);
  const [selected, setSelected] = useState<ReplicationPolicy | null>(null);
  const list = usePagedList<ReplicationPolicy>(['replication-policies'], '/replication/policies');
  const start = useAction(
    async (p: ReplicationPolicy) => ({
      policyId: p.id,
      id: Number(await apiCreate('/replication/executions', { policy_id: p.id })),
    }),
    [['replication-executions']],
  );
  const remove = useAction(
    (p: ReplicationPolicy) => api(`/replication/policies/${p.id}`, { method: 'DELETE' }),
    [['replication-policies']],
  );
  return (
    <>
      <h1>Replications</h1>
      <div className="toolbar">
        <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>
          + New Replication Rule
        </button>
      </div>
      <ErrorNote error={start.error} title="Could not start the replication" />
      {list.isLoading ? (
        <Spinner />
      ) : list.error ? (
        <ErrorNote error={list.error} />
      ) : list.data?.items.length === 0 ? (
        <Empty>No replication rules.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th className="hide-narrow">Source</th>
                <th>Destination</th>
                <th className="hide-narrow">Trigger</th>
                <th className="hide-narrow">Filters</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {list.data?.items.map((p) => (
                <tr key={p.id} aria-selected={selected?.id === p.id}>
                  <td>
                    <button type="button" className="link" onClick={() => setSelected(p)}>
                      {p.name}
                    </button>
                  </td>
                  <td>{p.enabled ? 'Enabled' : 'Disabled'}</td>
                  <td className="hide-narrow">{p.src_registry?.name ?? 'Local'}</td>
                  <td>
                    {p.dest_registry?.name ?? 'Local'}
                    {p.dest_namespace ? ` : ${p.dest_namespace}` : ''}
                  </td>
                  <td className="hide-narrow">
                    {p.trigger?.type ?? 'manual'}
                    {p.trigger?.trigger_settings?.cron ? ` (${p.trigger.trigger_settings.cron})` : ''}
                  </td>
                  <td className="hide-narrow">
                    {(p.filters ?? []).map((f) => `${f.type}: ${String(f.value)}`).join(', ') || '—'}
                  </td>
                  <td className="row">
                    <button
                      type="button"
                      className="btn btn-small"
                      onClick={() => {
                        setSelected(p);
                        start.mutate(p);
                      }}
                    >
                      Replicate
                    </button>
                    <button type="button" className="btn btn-small" onClick={() => setEditing(p)}>
                      Edit
                    </button>
                    <button type="button" className="btn btn-small" onClick={() => setDeleting(p)}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data ? (
        <Pager page={list.page} pageSize={list.pageSize} total={list.data.total} onPage={list.setPage} />
      ) : null}
      <ExecutionsPanel policy={selected} started={start.data} />
      {editing ? (
        <PolicyDialog policy={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title="Delete replication rule"
          message={`Delete rule ${deleting.name}?`}
          onConfirm={() => remove.mutateAsync(deleting)}
          onClose={() => setDeleting(null)}
        />
      ) : null}
    </>
  );
}
