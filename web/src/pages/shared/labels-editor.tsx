import { useState, type FormEvent } from 'react';
import { api, apiCreate } from '../../api/client';
import { useAction, usePagedList } from '../../api/hooks';
import type { Label } from '../../api/types';
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

export function LabelChip({ label }: { label: Label }) {
  return (
    <span className="label-chip" style={{ background: label.color || '#5b6776' }} title={label.description}>
      {label.name}
    </span>
  );
}

/** Global (scope g) or project (scope p) labels: list, create, edit, delete. */
export function LabelsEditor(props: { scope: 'g' | 'p'; projectId?: number; editable: boolean }) {
  const key = ['labels', props.scope, props.projectId];
  const list = usePagedList<Label>(key, '/labels', { scope: props.scope, project_id: props.projectId });
  const [editing, setEditing] = useState<Label | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Label | null>(null);
  const remove = useAction((l: Label) => api(`/labels/${l.id}`, { method: 'DELETE' }), [key]);
  return (
    <>
      {props.editable ? (
        <div className="toolbar">
          <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>
            + New Label
          </button>
        </div>
      ) : null}
      {list.isLoading ? (
        <Spinner />
      ) : list.error ? (
        <ErrorNote error={list.error} />
      ) : list.data?.items.length === 0 ? (
        <Empty>No labels.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Label</th>
                <th>Description</th>
                <th className="hide-narrow">Created</th>
                {props.editable ? <th aria-label="Actions" /> : null}
              </tr>
            </thead>
            <tbody>
              {list.data?.items.map((l) => (
                <tr key={l.id}>
                  <td>
                    <LabelChip label={l} />
                  </td>
                  <td>{l.description}</td>
                  <td className="hide-narrow">{formatTime(l.creation_time)}</td>
                  {props.editable ? (
                    <td className="row">
                      <button type="button" className="btn btn-small" onClick={() => setEditing(l)}>
                        Edit
                      </button>
                      <button type="button" className="btn btn-small" onClick={() => setDeleting(l)}>
                        Delete
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
      {editing ? (
        <LabelDialog
          label={editing === 'new' ? null : editing}
          scope={props.scope}
          projectId={props.projectId}
          invalidate={key}
          onClose={() => setEditing(null)}
        />
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title="Delete label"
          message={`Delete label ${deleting.name}? It is removed from every artifact.`}
          onConfirm={() => remove.mutateAsync(deleting)}
          onClose={() => setDeleting(null)}
        />
      ) : null}
    </>
  );
}

function LabelDialog(props: {
  label: Label | null;
  scope: 'g' | 'p';
  projectId?: number;
  invalidate: unknown[];
  onClose: () => void;
}) {
  const [name, setName] = useState(props.label?.name ?? '');
  const [description, setDescription] = useState(props.label?.description ?? '');
  const [color, setColor] = useState(props.label?.color || '#1d4e89');
  const save = useAction(() => {
    const body = { name, description, color, scope: props.scope, project_id: props.projectId ?? 0 };
    return props.label
      ? api(`/labels/${props.label.id}`, { method: 'PUT', body })
      : apiCreate('/labels', body);
  }, [props.invalidate]);
  async function submit(e: FormEvent) {
    e.preventDefault();
    try {
      await save.mutateAsync(undefined);
      props.onClose();
    } catch {
      // shown below
    }
  }
  return (
    <Dialog title={props.label ? 'Edit Label' : 'New Label'} onClose={props.onClose}>
      <form onSubmit={(e) => void submit(e)}>
        <Field label="Name">
          {(id) => (
            <input
              id={id}
              name="label_name"
              required
              autoFocus
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          )}
        </Field>
        <Field label="Color">
          {(id) => <input id={id} type="color" value={color} onChange={(e) => setColor(e.target.value)} />}
        </Field>
        <Field label="Description">
          {(id) => <input id={id} value={description} onChange={(e) => setDescription(e.target.value)} />}
        </Field>
        <ErrorNote error={save.error} />
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={save.isPending || !name.trim()}>
            OK
          </button>
        </div>
      </form>
    </Dialog>
  );
}
