import { useState, type FormEvent } from 'react';
import { createGroup, deleteGroup, groupKeys, groupList } from '../../api/groups';
import { useAction, usePagedList } from '../../api/hooks';
import type { UserGroup } from '../../api/types';
import { ListPage } from '../../components/list-page';
import { ConfirmDialog, Dialog, ErrorNote, Field } from '../../components/ui';

const TYPES: Record<number, string> = { 1: 'LDAP', 2: 'HTTP', 3: 'OIDC' };

/** Administration → Groups: the user groups that can be made project members. */
export function GroupsPage() {
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<UserGroup | null>(null);
  const list = usePagedList(groupList());
  const remove = useAction((g: UserGroup) => deleteGroup(g.id), [groupKeys.all]);
  return (
    <>
      <h1>Groups</h1>
      <ListPage
        list={list}
        actions={
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            + New Group
          </button>
        }
        empty="No groups."
        columns={
          <>
            <th>Name</th>
            <th>Type</th>
            <th className="hide-narrow">LDAP Group DN</th>
            <th aria-label="Actions" />
          </>
        }
        row={(g) => (
          <tr key={g.id}>
            <td>{g.group_name}</td>
            <td>{TYPES[g.group_type] ?? g.group_type}</td>
            <td className="hide-narrow">{g.ldap_group_dn}</td>
            <td>
              <button type="button" className="btn btn-small" onClick={() => setDeleting(g)}>
                Delete
              </button>
            </td>
          </tr>
        )}
      />
      {creating ? <GroupDialog onClose={() => setCreating(false)} /> : null}
      {deleting ? (
        <ConfirmDialog
          title="Delete group"
          message={`Delete group ${deleting.group_name}? Its project memberships go with it.`}
          onConfirm={() => remove.mutateAsync(deleting)}
          onClose={() => setDeleting(null)}
        />
      ) : null}
    </>
  );
}

function GroupDialog({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [type, setType] = useState(2);
  const [dn, setDn] = useState('');
  const save = useAction(
    () => createGroup({ group_name: name, group_type: type, ...(type === 1 ? { ldap_group_dn: dn } : {}) }),
    [groupKeys.all],
  );
  async function submit(e: FormEvent) {
    e.preventDefault();
    await save.mutateAsync(undefined).then(onClose, () => undefined);
  }
  return (
    <Dialog title="New Group" onClose={onClose}>
      <form onSubmit={(e) => void submit(e)}>
        <Field label="Type">
          {(id) => (
            <select id={id} value={type} onChange={(e) => setType(Number(e.target.value))}>
              <option value={2}>HTTP</option>
              <option value={1}>LDAP</option>
              <option value={3}>OIDC</option>
            </select>
          )}
        </Field>
        <Field label="Name">
          {(id) => (
            <input id={id} required autoFocus value={name} onChange={(e) => setName(e.target.value)} />
          )}
        </Field>
        {type === 1 ? (
          <Field label="LDAP Group DN">
            {(id) => <input id={id} required value={dn} onChange={(e) => setDn(e.target.value)} />}
          </Field>
        ) : null}
        <ErrorNote error={save.error} />
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={save.isPending || !name}>
            OK
          </button>
        </div>
      </form>
    </Dialog>
  );
}
