import { useState } from 'react';
import { useAction, usePagedList } from '../../api/hooks';
import {
  BUILTIN_SCANNER,
  deleteScanner,
  scannerKeys,
  scannerList,
  setDefaultScanner,
  setScannerDisabled,
  type Scanner,
} from '../../api/scanners';
import { ListPage } from '../../components/list-page';
import { ConfirmDialog, ErrorNote, formatTime } from '../../components/ui';
import { ScannerDialog } from './scanner-dialog';

/**
 * Scanner registrations: the default marked, add or edit one (with "Test connection"), set the default,
 * enable or disable, delete. The built-in Berth scanner cannot be edited, disabled or deleted.
 */
export function ScannersTab() {
  const list = usePagedList(scannerList());
  const [editing, setEditing] = useState<Scanner | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Scanner | null>(null);
  const makeDefault = useAction((s: Scanner) => setDefaultScanner(s.uuid), [scannerKeys.all]);
  const toggle = useAction((s: Scanner) => setScannerDisabled(s, !s.disabled), [scannerKeys.all]);
  const remove = useAction((s: Scanner) => deleteScanner(s.uuid), [scannerKeys.all]);
  return (
    <>
      <ListPage
        list={list}
        tableLabel="Scanners"
        actions={
          <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>
            + New Scanner
          </button>
        }
        notes={
          <>
            <ErrorNote error={makeDefault.error} title="Set as default" />
            <ErrorNote error={toggle.error} title="Enable/disable" />
          </>
        }
        empty="No scanner is registered."
        columns={
          <>
            <th>Name</th>
            <th className="hide-narrow">Endpoint</th>
            <th>Health</th>
            <th>Enabled</th>
            <th className="hide-narrow">Authorization</th>
            <th className="hide-narrow">Created</th>
            <th aria-label="Actions" />
          </>
        }
        row={(s) => {
          const builtin = s.uuid === BUILTIN_SCANNER;
          return (
            <tr key={s.uuid} data-scanner={s.name}>
              <td>
                {s.name} {s.is_default ? <span className="badge badge-ok">Default</span> : null}
                {s.description ? <div className="muted">{s.description}</div> : null}
              </td>
              <td className="hide-narrow">{s.url}</td>
              <td>
                <span className={s.health === 'unhealthy' ? 'badge badge-bad' : 'badge'}>
                  {s.health ?? '—'}
                </span>
              </td>
              <td>{s.disabled ? 'Disabled' : 'Enabled'}</td>
              <td className="hide-narrow">{s.auth || 'None'}</td>
              <td className="hide-narrow">{formatTime(s.create_time)}</td>
              <td className="row">
                {!s.is_default ? (
                  <button type="button" className="btn btn-small" onClick={() => makeDefault.mutate(s)}>
                    Set as Default
                  </button>
                ) : null}
                {!builtin ? (
                  <>
                    {!s.is_default ? (
                      <button type="button" className="btn btn-small" onClick={() => toggle.mutate(s)}>
                        {s.disabled ? 'Enable' : 'Disable'}
                      </button>
                    ) : null}
                    <button type="button" className="btn btn-small" onClick={() => setEditing(s)}>
                      Edit
                    </button>
                    <button type="button" className="btn btn-small" onClick={() => setDeleting(s)}>
                      Delete
                    </button>
                  </>
                ) : (
                  <span className="muted">Built in</span>
                )}
              </td>
            </tr>
          );
        }}
      />
      {editing ? (
        <ScannerDialog scanner={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title="Delete scanner"
          message={`Delete scanner ${deleting.name}? Projects using it fall back to the default scanner.`}
          onConfirm={() => remove.mutateAsync(deleting)}
          onClose={() => setDeleting(null)}
        />
      ) : null}
    </>
  );
}
