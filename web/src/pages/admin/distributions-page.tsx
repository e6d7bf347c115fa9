import { useState } from 'react';
import { useAction, usePagedList } from '../../api/hooks';
import {
  deleteInstance,
  instanceList,
  patchInstance,
  pingInstance,
  preheatKeys,
  type PreheatInstance,
} from '../../api/preheat';
import { ListPage } from '../../components/list-page';
import { ConfirmDialog, ErrorNote } from '../../components/ui';
import { DistributionDialog } from './distribution-dialog';

/** Administration → Distributions: the P2P provider instances (Dragonfly, Kraken) preheat policies use. */
export function DistributionsPage() {
  const [editing, setEditing] = useState<PreheatInstance | 'new' | null>(null);
  const [deleting, setDeleting] = useState<PreheatInstance | null>(null);
  const [pinged, setPinged] = useState<Record<number, string>>({});
  const list = usePagedList(instanceList());
  const invalidate = [preheatKeys.instances];
  const remove = useAction((i: PreheatInstance) => deleteInstance(i.name), invalidate);
  const change = useAction(
    ({ i, enabled, isDefault }: { i: PreheatInstance; enabled?: boolean; isDefault?: boolean }) =>
      patchInstance(i, {
        ...(enabled === undefined ? {} : { enabled }),
        ...(isDefault ? { default: true } : {}),
      }),
    invalidate,
  );
  const ping = async (i: PreheatInstance) => {
    setPinged((p) => ({ ...p, [i.id]: 'Checking…' }));
    try {
      await pingInstance({ id: i.id });
      setPinged((p) => ({ ...p, [i.id]: 'Healthy' }));
    } catch (err) {
      setPinged((p) => ({ ...p, [i.id]: `Unhealthy: ${(err as Error).message}` }));
    }
  };
  return (
    <>
      <h1>Distributions</h1>
      <ListPage
        list={list}
        tableLabel="Distributions"
        actions={
          <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>
            + New Instance
          </button>
        }
        notes={<ErrorNote error={change.error ?? remove.error} />}
        empty="No P2P provider instances. Add a Dragonfly or Kraken instance for preheat policies to use."
        columns={
          <>
            <th>Name</th>
            <th>Endpoint</th>
            <th>Status</th>
            <th>Enabled</th>
            <th>Provider</th>
            <th className="hide-narrow">Auth Mode</th>
            <th aria-label="Actions" />
          </>
        }
        row={(i) => (
          <tr key={i.id} data-instance={i.name}>
            <td>
              {i.name} {i.default ? <span className="badge badge-ok">Default</span> : null}
              {i.description ? <div className="muted">{i.description}</div> : null}
            </td>
            <td>{i.endpoint}</td>
            <td>
              <span className={/^healthy$/i.test(pinged[i.id] ?? '') ? 'badge badge-ok' : 'badge'}>
                {pinged[i.id] ?? i.status ?? 'Unknown'}
              </span>
            </td>
            <td>{i.enabled ? 'Yes' : 'No'}</td>
            <td>{i.vendor}</td>
            <td className="hide-narrow">{i.auth_mode}</td>
            <td className="row">
              <button type="button" className="btn btn-small" onClick={() => void ping(i)}>
                Ping
              </button>
              <button type="button" className="btn btn-small" onClick={() => setEditing(i)}>
                Edit
              </button>
              <button
                type="button"
                className="btn btn-small"
                disabled={change.isPending}
                onClick={() => change.mutate({ i, enabled: !i.enabled })}
              >
                {i.enabled ? 'Disable' : 'Enable'}
              </button>
              {i.default ? null : (
                <button
                  type="button"
                  className="btn btn-small"
                  disabled={change.isPending}
                  onClick={() => change.mutate({ i, isDefault: true })}
                >
                  Set as Default
                </button>
              )}
              <button type="button" className="btn btn-small" onClick={() => setDeleting(i)}>
                Delete
              </button>
            </td>
          </tr>
        )}
      />
      {editing ? (
        <DistributionDialog instance={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title="Delete instance"
          message={`Delete the P2P provider instance ${deleting.name}?`}
          onConfirm={() => remove.mutateAsync(deleting)}
          onClose={() => setDeleting(null)}
        />
      ) : null}
    </>
  );
}
