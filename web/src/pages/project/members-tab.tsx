import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, apiCreate } from '../../api/client';
import { useAction, usePagedList } from '../../api/hooks';
import { ROLES, roleName, type Member, type User, type UserGroup } from '../../api/types';
import { ConfirmDialog, Dialog, Empty, ErrorNote, Field, Pager, Spinner } from '../../components/ui';
import { useProjectContext } from './project-page';

/** Members (users and groups) with their roles: add, change role, remove. */
export function MembersTab() {
  const { project, can } = useProjectContext();
  const [adding, setAdding] = useState<'user' | 'group' | null>(null);
  const [removing, setRemoving] = useState<Member | null>(null);
  const key = ['members', project.project_id];
  const list = usePagedList<Member>(key, `/projects/${project.project_id}/members`);
  const setRole = useAction(
    ({ m, role }: { m: Member; role: number }) =>
      api(`/projects/${project.project_id}/members/${m.id}`, { method: 'PUT', body: { role_id: role } }),
    [key, ['project-summary', project.project_id]],
  );
  const remove = useAction(
    (m: Member) => api(`/projects/${project.project_id}/members/${m.id}`, { method: 'DELETE' }),
    [key, ['project-summary', project.project_id]],
  );
  const mayEdit = can('member', 'update');
  return (
    <>
      {can('member', 'create') ? (
        <div className="toolbar">
          <button type="button" className="btn btn-primary" onClick={() => setAdding('user')}>
            + User
          </button>
          <button type="button" className="btn" onClick={() => setAdding('group')}>
            + Group
          </button>
        </div>
      ) : null}
      <ErrorNote error={setRole.error} title="Could not change the role" />
      {list.isLoading ? (
        <Spinner />
      ) : list.error ? (
        <ErrorNote error={list.error} />
      ) : list.data?.items.length === 0 ? (
        <Empty>No members.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Member Type</th>
                <th>Role</th>
                {can('member', 'delete') ? <th aria-label="Actions" /> : null}
              </tr>
            </thead>
            <tbody>
              {list.data?.items.map((m) => (
                <tr key={m.id}>
                  <td>{m.entity_name}</td>
                  <td>{m.entity_type === 'g' ? 'Group' : 'User'}</td>
                  <td>
                    {mayEdit ? (
                      <select
                        className="inline"
                        aria-label={`Role of ${m.entity_name}`}
                        value={m.role_id}
                        onChange={(e) => setRole.mutate({ m, role: Number(e.target.value) })}
                      >
                        {ROLES.map((r) => (
                          <option key={r.id} value={r.id}>
                            {r.name}
                          </option>
                        ))}
                      </select>
                    ) : (
                      roleName(m.role_id)
                    )}
                  </td>
                  {can('member', 'delete') ? (
                    <td>
                      <button type="button" className="btn btn-small" onClick={() => setRemoving(m)}>
                        Remove
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data ? (
        <Pager page={list.page} pageSize={list.pageSize} total={list.data.total} onPage={list.setPage} />
      ) : null}
      {adding ? <AddMemberDialog kind={adding} onClose={() => setAdding(null)} /> : null}
      {removing ? (
        <ConfirmDialog
          title="Remove member"
          message={`Remove ${removing.entity_name} from ${project.name}?`}
          confirmLabel="Remove"
          onConfirm={() => remove.mutateAsync(removing)}
          onClose={() => setRemoving(null)}
        />
      ) : null}
    </>
  );
}

function AddMemberDialog({ kind, onClose }: { kind: 'user' | 'group'; onClose: () => void }) {
  const { project } = useProjectContext();
  const [name, setName] = useState('');
  const [role, setRole] = useState(2);
  const suggestions = useQuery({
    queryKey: ['member-candidates', kind, name],
    enabled: name.length >= 1,
    staleTime: 30_000,
    queryFn: async () =>
      kind === 'user'
        ? (await api<User[]>('/users/search', { query: { username: name, page_size: 10 } })).map(
            (u) => u.username,
          )
        : (await api<UserGroup[]>('/usergroups/search', { query: { groupname: name, page_size: 10 } })).map(
            (g) => g.group_name,
          ),
  });
  const add = useAction(
    () =>
      apiCreate(`/projects/${project.project_id}/members`, {
        role_id: role,
        ...(kind === 'user'
          ? { member_user: { username: name.trim() } }
          : { member_group: { group_name: name.trim() } }),
      }),
    [
      ['members', project.project_id],
      ['project-summary', project.project_id],
    ],
  );
  async function submit(e: FormEvent) {
    e.preventDefault();
    try {
      await add.mutateAsync(undefined);
      onClose();
    } catch {
      // shown below
    }
  }
  return (
    <Dialog title={kind === 'user' ? 'New User Member' : 'New Group Member'} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)}>
        <Field label={kind === 'user' ? 'Name' : 'Group Name'}>
          {(id) => (
            <>
              <input
                id={id}
                name="member_name"
                list={`${id}-options`}
                autoComplete="off"
                required
                autoFocus
                value={name}
                onChange={(e) => setName(e.target.value)}
              />
              <datalist id={`${id}-options`}>
                {(suggestions.data ?? []).map((s) => (
                  <option key={s} value={s} />
                ))}
              </datalist>
            </>
          )}
        </Field>
        <fieldset className="field">
          <legend>Role</legend>
          {ROLES.map((r) => (
            <label key={r.id} className="check">
              <input
                type="radio"
                name="role"
                value={r.id}
                checked={role === r.id}
                onChange={() => setRole(r.id)}
              />
              {r.name}
            </label>
          ))}
        </fieldset>
        <ErrorNote error={add.error} />
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={add.isPending || !name.trim()}>
            OK
          </button>
        </div>
      </form>
    </Dialog>
  );
}
