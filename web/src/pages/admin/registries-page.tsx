import { useState } from 'react';
import { api } from '../../api/client';
import { useAction, usePagedList } from '../../api/hooks';
import type { Registry } from '../../api/types';
import { ConfirmDialog, Empty, ErrorNote, formatTime, Pager, Spinner } from '../../components/ui';
import { RegistryDialog } from './registry-dialog';

/** Administration → Registries: endpoints replication pushes to and pulls from. */
export function RegistriesPage() {
  const [editing, setEditing] = useState<Registry | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Registry | null>(null);
  const [pinged, setPinged] = useState<Record<number, string>>({});
  const list = usePagedList<Registry>(['registries'], '/registries');
  const remove = useAction(
    (r: Registry) => api(`/registries/${r.id}`, { method: 'DELETE' }),
    [['registries']],
  );
  const ping = async (r: Registry) => {
    setPinged((p) => ({ ...p, [r.id]: 'Testing…' }));
    try {
      await api('/registries/ping', { method: 'POST', body: { id: r.id } });
      setPinged((p) => ({ ...p, [r.id]: 'Healthy' }));
    } catch (err) {
      setPinged((p) => ({ ...p, [r.id]: `Unhealthy: ${(err as Error).message}` }));
    }
  };
  return (
    <>
      <h1>Registries</h1>
      <div className="toolbar">
        <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>
          + New Endpoint
        </button>
      </div>
      {list.isLoading ? (
        <Spinner />
      ) : list.error ? (
        <ErrorNote error={list.error} />
      ) : list.data?.items.length === 0 ? (
        <Empty>No registry endpoints. Add one to replicate images to or from it.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th className="hide-narrow">Endpoint URL</th>
                <th>Provider</th>
                <th className="hide-narrow">Creation Time</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {list.data?.items.map((r) => (
                <tr key={r.id}>
                  <td>
                    {r.name}
                    {r.description ? <div className="muted">{r.description}</div> : null}
                  </td>
                  <td>
                    <span className={statusClass(pinged[r.id] ?? r.status)}>
                      {pinged[r.id] ?? r.status ?? 'unknown'}
                    </span>
                  </td>
                  <td className="hide-narrow">{r.url}</td>
                  <td>{r.type}</td>
                  <td className="hide-narrow">{formatTime(r.creation_time)}</td>
                  <td className="row">
                    <button type="button" className="btn btn-small" onClick={() => void ping(r)}>
                      Test Connection
                    </button>
                    <button type="button" className="btn btn-small" onClick={() => setEditing(r)}>
                      Edit
                    </button>
                    <button type="button" className="btn btn-small" onClick={() => setDeleting(r)}>
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
      {editing ? (
        <RegistryDialog registry={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title="Delete endpoint"
          message={`Delete registry endpoint ${deleting.name}?`}
          onConfirm={() => remove.mutateAsync(deleting)}
          onClose={() => setDeleting(null)}
        />
      ) : null}
    </>
  );
}

function statusClass(s: string | undefined): string {
  if (!s) return 'badge';
  if (/^healthy$/i.test(s)) return 'badge badge-ok';
  if (/unhealthy/i.test(s)) return 'badge badge-bad';
  return 'badge';
}
