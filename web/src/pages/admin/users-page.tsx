import { useState, type FormEvent } from 'react';
import { useAction, usePagedList } from '../../api/hooks';
import { useCurrentUser } from '../../api/session';
import type { User } from '../../api/types';
import { createUser, deleteUser, setSysadmin, updatePassword, userKeys, userList } from '../../api/users';
import { ListPage } from '../../components/list-page';
import { ConfirmDialog, Dialog, ErrorNote, Field, formatTime } from '../../components/ui';
import { passwordProblem } from '../account/profile-page';

/** Administration → Users: create, make or revoke admin, reset password, delete. */
export function UsersPage() {
  const me = useCurrentUser().data;
  const [search, setSearch] = useState('');
  const [creating, setCreating] = useState(false);
  const [resetting, setResetting] = useState<User | null>(null);
  const [deleting, setDeleting] = useState<User | null>(null);
  const list = usePagedList(userList({ username: search }));
  const setAdmin = useAction((u: User) => setSysadmin(u.user_id, !u.sysadmin_flag), [userKeys.all]);
  const remove = useAction((u: User) => deleteUser(u.user_id), [userKeys.all]);
  return (
    <>
      <h1>Users</h1>
      <ListPage
        list={list}
        actions={
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            + New User
          </button>
        }
        search={{
          value: search,
          onChange: setSearch,
          label: 'Filter users',
          placeholder: 'Filter by username',
        }}
        notes={<ErrorNote error={setAdmin.error} />}
        empty="No users match."
        columns={
          <>
            <th>Name</th>
            <th>Administrator</th>
            <th className="hide-narrow">Email</th>
            <th className="hide-narrow">Registration Time</th>
            <th aria-label="Actions" />
          </>
        }
        row={(u) => (
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
        )}
      />
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
        ? updatePassword(resetFor.user_id, password)
        : createUser({ username, email, realname, password }),
    [userKeys.all],
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
