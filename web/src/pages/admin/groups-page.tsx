import { useState, type FormEvent } from 'react';
import { api, apiCreate } from '../../api/client';
import { useAction, usePagedList } from '../../api/hooks';
import type { UserGroup } from '../../api/types';
import { ConfirmDialog, Dialog, Empty, ErrorNote, Field, Pager, Spinner } from '../../components/ui';

const TYPES: Record<number, string> = { 1: 'LDAP', 2: 'HTTP', 3: 'OIDC' };

/** Administration → Groups: the user groups that can be made project members. */
export function GroupsPage() {
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<UserGroup | null>(null);
  const list = usePagedList<UserGroup>(['usergroups'], '/usergroups');
  const remove = useAction(
    (g: UserGroup) => api(`/usergroups/${g.id}`, { method: 'DELETE' }),
    [['usergroups']],
  );
  return (
    <>
      <h1>Groups</h1>
      <div className="toolbar">
        <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
          + New Group
        </button>
      </div>
      {list.isLoading ? (
        <Spinner />
      ) : list.error ? (
        <ErrorNote error={list.error} />
      ) : list.data?.items.length === 0 ? (
        <Empty>No groups.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Type</th>
                <th className="hide-narrow">LDAP Group DN</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {list.data?.items.map((g) => (
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
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data ? (
        <Pager page={list.page} pageSize={list.pageSize} total={list.data.total} onPage={list.setPage} />
      ) : null}
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
    () =>
      apiCreate('/usergroups', {
        group_name: name,
        group_type: type,
        ...(type === 1 ? { ldap_group_dn: dn } : {}),
      }),
    [['usergroups']],
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
