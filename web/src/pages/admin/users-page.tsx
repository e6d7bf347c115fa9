import { useState, type FormEvent } from 'react';
import { api, apiCreate } from '../../api/client';
import { useAction, usePagedList } from '../../api/hooks';
import { useCurrentUser } from '../../api/session';
import type { User } from '../../api/types';
import {
  ConfirmDialog,
  Dialog,
  Empty,
  ErrorNote,
  Field,
  formatTime,
  Pager,
  Spinner,
} from '../../components/ui';
import { passwordProblem } from '../account/profile-page';

/** Administration → Users: create, make or revoke admin, reset password, delete. */
export function UsersPage() {
  const me = useCurrentUser().data;
  const [search, setSearch] = useState('');
  const [creating, setCreating] = useState(false);
  const [resetting, setResetting] = useState<User | null>(null);
  const [deleting, setDeleting] = useState<User | null>(null);
  const list = usePagedList<User>(['users'], '/users', { q: search ? `username=~${search}` : undefined });
  const setAdmin = useAction(
    (u: User) =>
      api(`/users/${u.user_id}/sysadmin`, { method: 'PUT', body: { sysadmin_flag: !u.sysadmin_flag } }),
    [['users']],
  );
  const remove = useAction((u: User) => api(`/users/${u.user_id}`, { method: 'DELETE' }), [['users']]);
  return (
    <>
      <h1>Users</h1>
      <div className="toolbar">
        <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
          + New User
        </button>
        <div className="grow" />
        <input
          className="search"
          type="search"
          aria-label="Filter users"
          placeholder="Filter by username"
          value={search}
          onChange={(e) => {
            setSearch(e.target.value);
            list.setPage(1);
          }}
        />
      </div>
      <ErrorNote error={setAdmin.error} />
      {list.isLoading ? (
        <Spinner />
      ) : list.error ? (
        <ErrorNote error={list.error} />
      ) : list.data?.items.length === 0 ? (
        <Empty>No users match.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Administrator</th>
                <th className="hide-narrow">Email</th>
                <th className="hide-narrow">Registration Time</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {list.data?.items.map((u) => (
                <tr key={u.user_id}>
                  <td>{u.username}</td>
                  <td>{u.sysadmin_flag ? 'Yes' : 'No'}</td>
                  <td className="hide-narrow">{u.email}</td>
                  <td className="hide-narrow">{formatTime(u.creation_time)}</td>
                  <td className="row">
                    {u.user_id !== me?.user_id ? (
                      <button type="button" className="btn btn-small" onClick={() => setAdmin.mutate(u)}>
                        {u.sysadmin_flag ? 'Revoke Admin' : 'Set as Admin'}
                      </button>
                    ) : null}
                    <button type="button" className="btn btn-small" onClick={() => setResetting(u)}>
                      Reset Password
                    </button>
                    {u.user_id !== me?.user_id ? (
                      <button type="button" className="btn btn-small" onClick={() => setDeleting(u)}>
                        Delete
                      </button>
                    ) : null}
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
      {creating ? <UserDialog onClose={() => setCreating(false)} /> : null}
      {resetting ? <UserDialog resetFor={resetting} onClose={() => setResetting(null)} /> : null}
      {deleting ? (
        <ConfirmDialog
          title="Delete user"
          message={`Delete user ${deleting.username}?`}
          onConfirm={() => remove.mutateAsync(deleting)}
          onClose={() => setDeleting(null)}
        />
      ) : null}
    </>
  );
}

/** New user, or (resetFor) a new password for an existing one. */
function UserDialog({ resetFor, onClose }: { resetFor?: User; onClose: () => void }) {
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [realname, setRealname] = useState('');
  const [password, setPassword] = useState('');
  const rule = password ? passwordProblem(password) : null;
  const save = useAction(
    () =>
      resetFor
        ? api(`/users/${resetFor.user_id}/password`, { method: 'PUT', body: { new_password: password } })
        : apiCreate('/users', { username, email, realname, password, comment: '' }),
    [['users']],
  );
  async function submit(e: FormEvent) {
    e.preventDefault();
    await save.mutateAsync(undefined).then(onClose, () => undefined);
  }
  return (
    <Dialog title={resetFor ? `Reset password of ${resetFor.username}` : 'New User'} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)}>
        {resetFor ? null : (
          <>
            <Field label="Username">
              {(id) => (
                <input
                  id={id}
                  name="username"
                  required
                  autoFocus
                  value={username}
                  onChange={(e) => setUsername(e.target.value)}
                />
              )}
            </Field>
            <Field label="Email">
              {(id) => (
                <input
                  id={id}
                  name="email"
                  type="email"
                  required
                  value={email}
                  onChange={(e) => setEmail(e.target.value)}
                />
              )}
            </Field>
            <Field label="Full Name">
              {(id) => (
                <input
                  id={id}
                  name="realname"
                  required
                  value={realname}
                  onChange={(e) => setRealname(e.target.value)}
                />
              )}
            </Field>
          </>
        )}
        <Field label={resetFor ? 'New Password' : 'Password'} error={rule}>
          {(id) => (
            <input
              id={id}
              name="password"
              type="password"
              autoComplete="new-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        <ErrorNote error={save.error} />
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={save.isPending || !password || !!rule}>
            OK
          </button>
        </div>
      </form>
    </Dialog>
  );
}
