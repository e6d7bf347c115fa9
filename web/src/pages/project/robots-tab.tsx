import { useState } from 'react';
import { useAction, usePagedList } from '../../api/hooks';
import {
  deleteRobot,
  projectRobotList,
  refreshRobotSecret,
  robotKeys,
  setRobotDisabled,
} from '../../api/robots';
import type { Robot } from '../../api/types';
import { ListPage } from '../../components/list-page';
import { ConfirmDialog, ErrorNote, formatTime } from '../../components/ui';
import { CreateRobotDialog } from './create-robot-dialog';
import { useProjectContext } from './project-page';
import { RobotSecretDialog } from './robot-secret-dialog';

/** Project robot accounts: create (secret shown once), refresh secret, disable/enable, delete. */
export function RobotsTab() {
  const { project, can } = useProjectContext();
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const [deleting, setDeleting] = useState<Robot | null>(null);
  const key = robotKeys.project(project.project_id);
  const list = usePagedList(projectRobotList(project.project_id));
  const refresh = useAction((r: Robot) => refreshRobotSecret(r.id), [key]);
  const toggle = useAction((r: Robot) => setRobotDisabled(r, !r.disable), [key]);
  const remove = useAction((r: Robot) => deleteRobot(r.id), [key]);
  return (
    <>
      <ListPage
        list={list}
        actions={
          can('robot', 'create') ? (
            <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
              + New Robot Account
            </button>
          ) : null
        }
        notes={<ErrorNote error={refresh.error ?? toggle.error} />}
        empty="No robot accounts. Robots push and pull from CI without a person's password."
        columns={
          <>
            <th>Name</th>
            <th>Status</th>
            <th className="hide-narrow">Permissions</th>
            <th className="hide-narrow">Created</th>
            <th>Expires</th>
            {can('robot', 'update') ? <th aria-label="Actions" /> : null}
          </>
        }
        row={(r) => (
          <tr key={r.id}>
            <td>
              {r.name}
              {r.description ? <div className="muted">{r.description}</div> : null}
            </td>
            <td>
              <span className={r.disable ? 'badge badge-bad' : 'badge badge-ok'}>
                {r.disable ? 'Disabled' : 'Enabled'}
              </span>
            </td>
            <td className="hide-narrow">
              {(r.permissions ?? [])
                .flatMap((p) => p.access.map((a) => `${a.action} ${a.resource}`))
                .join(', ')}
            </td>
            <td className="hide-narrow">{formatTime(r.creation_time)}</td>
            <td>{expiry(r.expires_at)}</td>
            {can('robot', 'update') ? (
              <td className="row">
                <button
                  type="button"
                  className="btn btn-small"
                  onClick={async () => {
                    const res = await refresh.mutateAsync(r).catch(() => null);
                    if (res?.secret) setSecret({ name: r.name, secret: res.secret });
                  }}
                >
                  Refresh Secret
                </button>
                <button type="button" className="btn btn-small" onClick={() => toggle.mutate(r)}>
                  {r.disable ? 'Enable' : 'Disable'}
                </button>
                {can('robot', 'delete') ? (
                  <button type="button" className="btn btn-small" onClick={() => setDeleting(r)}>
                    Delete
                  </button>
                ) : null}
              </td>
            ) : null}
          </tr>
        )}
      />
      {creating ? (
        <CreateRobotDialog
          onClose={() => setCreating(false)}
          onCreated={(created) => {
            setCreating(false);
            setSecret(created);
          }}
        />
      ) : null}
      {secret ? <RobotSecretDialog {...secret} onClose={() => setSecret(null)} /> : null}
      {deleting ? (
        <ConfirmDialog
          title="Delete robot account"
          message={`Delete ${deleting.name}? Clients using its secret stop working.`}
          onConfirm={() => remove.mutateAsync(deleting)}
          onClose={() => setDeleting(null)}
        />
      ) : null}
    </>
  );
}

function expiry(expiresAt: number | undefined): string {
  if (expiresAt === undefined || expiresAt === -1) return 'Never';
  const d = new Date(expiresAt * 1000);
  return d.getTime() < Date.now() ? `Expired ${d.toLocaleDateString()}` : d.toLocaleDateString();
}
