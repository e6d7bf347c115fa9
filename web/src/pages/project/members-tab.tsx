import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useAction, usePagedList } from '../../api/hooks';
import {
  addMember,
  memberCandidatesQuery,
  memberKeys,
  memberList,
  removeMember,
  setMemberRole,
} from '../../api/members';
import { projectKeys } from '../../api/projects';
import { ROLES, roleName, type Member } from '../../api/types';
import { ListPage } from '../../components/list-page';
import { ConfirmDialog, Dialog, ErrorNote, Field } from '../../components/ui';
import { useProjectContext } from './project-page';

/** Members (users and groups) with their roles: add, change role, remove. */
export function MembersTab() {
  const { project, can } = useProjectContext();
  const [adding, setAdding] = useState<'user' | 'group' | null>(null);
  const [removing, setRemoving] = useState<Member | null>(null);
  const changed = [memberKeys.all(project.project_id), projectKeys.summary(project.project_id)];
  const list = usePagedList(memberList(project.project_id));
  const setRole = useAction(
    ({ m, role }: { m: Member; role: number }) => setMemberRole(project.project_id, m.id, role),
    changed,
  );
  const remove = useAction((m: Member) => removeMember(project.project_id, m.id), changed);
  const mayEdit = can('member', 'update');
  return (
    <>
      <ListPage
        list={list}
        actions={
          can('member', 'create') ? (
            <>
              <button type="button" className="btn btn-primary" onClick={() => setAdding('user')}>
                + User
              </button>
              <button type="button" className="btn" onClick={() => setAdding('group')}>
                + Group
              </button>
            </>
          ) : null
        }
        notes={<ErrorNote error={setRole.error} title="Could not change the role" />}
        empty="No members."
        columns={
          <>
            <th>Name</th>
            <th>Member Type</th>
            <th>Role</th>
            {can('member', 'delete') ? <th aria-label="Actions" /> : null}
          </>
        }
        row={(m) => (
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
        )}
      />
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
    ...memberCandidatesQuery(kind, name),
    enabled: name.length >= 1,
    staleTime: 30_000,
  });
  const add = useAction(
    () => addMember(project.project_id, kind, name.trim(), role),
    [memberKeys.all(project.project_id), projectKeys.summary(project.project_id)],
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
