import { useState, type FormEvent } from 'react';
import { useAction, usePagedList } from '../../api/hooks';
import { deleteLabel, labelKeys, labelList, saveLabel } from '../../api/labels';
import type { Label } from '../../api/types';
import { ListPage } from '../../components/list-page';
import { ConfirmDialog, Dialog, ErrorNote, Field, formatTime } from '../../components/ui';

export function LabelChip({ label }: { label: Label }) {
  return (
    <span className="label-chip" style={{ background: label.color || '#5b6776' }} title={label.description}>
      {label.name}
    </span>
  );
}

/** Global (scope g) or project (scope p) labels: list, create, edit, delete. */
export function LabelsEditor(props: { scope: 'g' | 'p'; projectId?: number; editable: boolean }) {
  const list = usePagedList(labelList(props.scope, props.projectId));
  const [editing, setEditing] = useState<Label | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Label | null>(null);
  const remove = useAction((l: Label) => deleteLabel(l.id), [labelKeys.all]);
  return (
    <>
      <ListPage
        list={list}
        actions={
          props.editable ? (
            <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>
              + New Label
            </button>
          ) : null
        }
        empty="No labels."
        columns={
          <>
            <th>Label</th>
            <th>Description</th>
            <th className="hide-narrow">Created</th>
            {props.editable ? <th aria-label="Actions" /> : null}
          </>
        }
        row={(l) => (
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
        )}
      />
      {editing ? (
        <LabelDialog
          label={editing === 'new' ? null : editing}
          scope={props.scope}
          projectId={props.projectId}
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
  onClose: () => void;
}) {
  const [name, setName] = useState(props.label?.name ?? '');
  const [description, setDescription] = useState(props.label?.description ?? '');
  const [color, setColor] = useState(props.label?.color || '#1d4e89');
  const save = useAction(
    () =>
      saveLabel(
        { name, description, color, scope: props.scope, project_id: props.projectId ?? 0 },
        props.label?.id,
      ),
    [labelKeys.all],
  );
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
