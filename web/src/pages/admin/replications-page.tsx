import { useState } from 'react';
import { useAction, usePagedList } from '../../api/hooks';
import { deletePolicy, policyList, replicationKeys, startExecution } from '../../api/replication';
import type { ReplicationPolicy } from '../../api/types';
import { ListPage } from '../../components/list-page';
import { ConfirmDialog, ErrorNote } from '../../components/ui';
import { ExecutionsPanel } from './replication-executions';
import { PolicyDialog } from './replication-policy-dialog';

/** Administration → Replications: rules (filters, trigger, destination), REPLICATE, and their executions. */
export function ReplicationsPage() {
  const [editing, setEditing] = useState<ReplicationPolicy | 'new' | null>(null);
  const [deleting, setDeleting] = useState<ReplicationPolicy | null>(null);
  const [selected, setSelected] = useState<ReplicationPolicy | null>(null);
  const list = usePagedList(policyList());
  const start = useAction(
    async (p: ReplicationPolicy) => ({ policyId: p.id, id: await startExecution(p.id) }),
    [replicationKeys.executions()],
  );
  const remove = useAction((p: ReplicationPolicy) => deletePolicy(p.id), [replicationKeys.policies()]);
  return (
    <>
      <h1>Replications</h1>
      <ListPage
        list={list}
        actions={
          <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>
            + New Replication Rule
          </button>
        }
        notes={<ErrorNote error={start.error} title="Could not start the replication" />}
        empty="No replication rules."
        columns={
          <>
            <th>Name</th>
            <th>Status</th>
            <th className="hide-narrow">Source</th>
            <th>Destination</th>
            <th className="hide-narrow">Trigger</th>
            <th className="hide-narrow">Filters</th>
            <th aria-label="Actions" />
          </>
        }
        row={(p) => (
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
        )}
      />
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
