import { useState } from 'react';
import { useAction, usePagedList } from '../../api/hooks';
import { deleteRegistry, pingRegistry, registryKeys, registryList } from '../../api/registries';
import type { Registry } from '../../api/types';
import { ListPage } from '../../components/list-page';
import { ConfirmDialog, formatTime } from '../../components/ui';
import { RegistryDialog } from './registry-dialog';

/** Administration → Registries: endpoints replication pushes to and pulls from. */
export function RegistriesPage() {
  const [editing, setEditing] = useState<Registry | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Registry | null>(null);
  const [pinged, setPinged] = useState<Record<number, string>>({});
  const list = usePagedList(registryList());
  const remove = useAction((r: Registry) => deleteRegistry(r.id), [registryKeys.all]);
  const ping = async (r: Registry) => {
    setPinged((p) => ({ ...p, [r.id]: 'Testing…' }));
    try {
      await pingRegistry({ id: r.id });
      setPinged((p) => ({ ...p, [r.id]: 'Healthy' }));
    } catch (err) {
      setPinged((p) => ({ ...p, [r.id]: `Unhealthy: ${(err as Error).message}` }));
    }
  };
  return (
    <>
      <h1>Registries</h1>
      <ListPage
        list={list}
        actions={
          <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>
            + New Endpoint
          </button>
        }
        empty="No registry endpoints. Add one to replicate images to or from it."
        columns={
          <>
            <th>Name</th>
            <th>Status</th>
            <th className="hide-narrow">Endpoint URL</th>
            <th>Provider</th>
            <th className="hide-narrow">Creation Time</th>
            <th aria-label="Actions" />
          </>
        }
        row={(r) => (
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
        )}
      />
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
