import { useState, type FormEvent } from 'react';
import { useAction, usePagedList } from '../../api/hooks';
import {
  deleteImmutableRule,
  fieldsOf,
  immutableRuleKeys,
  immutableRuleList,
  saveImmutableRule,
  type ImmutableRule,
  type ImmutableRuleFields,
} from '../../api/immutable-rules';
import { ListPage } from '../../components/list-page';
import { ConfirmDialog, Dialog, ErrorNote, Field, RowPolicyActions } from '../../components/ui';
import { useProjectContext } from './project-page';

/** A rule in words, as Harbor's portal says it. */
export function describeRule(rule: ImmutableRule): { repositories: string; tags: string } {
  const f = fieldsOf(rule);
  return {
    repositories: `${f.repoDecoration === 'repoExcludes' ? 'excluding' : 'matching'} ${f.repoPattern}`,
    tags: `${f.tagDecoration === 'excludes' ? 'excluding' : 'matching'} ${f.tagPattern}`,
  };
}

/** Project → Tag Immutability: the rules, a dialog to add or edit one, enable/disable and delete. */
export function ImmutabilityTab() {
  const { project, can } = useProjectContext();
  const pid = project.project_id;
  const list = usePagedList(immutableRuleList(pid));
  const [editing, setEditing] = useState<ImmutableRule | 'new' | null>(null);
  const [deleting, setDeleting] = useState<ImmutableRule | null>(null);
  const invalidate = [immutableRuleKeys.list(pid)];
  const toggle = useAction(
    (r: ImmutableRule) => saveImmutableRule(pid, { ...fieldsOf(r), disabled: !r.disabled }, r.id),
    invalidate,
  );
  const remove = useAction((r: ImmutableRule) => deleteImmutableRule(pid, r.id), invalidate);
  const canUpdate = can('immutable-tag', 'update');
  const canDelete = can('immutable-tag', 'delete');
  return (
    <>
      <p className="muted">
        Tags a rule selects are immutable: they can be pushed once, then never moved to another image nor
        deleted, with their artifacts, until the rule is disabled or deleted.
      </p>
      <ListPage
        list={list}
        tableLabel="Tag immutability rules"
        actions={
          can('immutable-tag', 'create') ? (
            <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>
              + Add Rule
            </button>
          ) : null
        }
        notes={<ErrorNote error={toggle.error} />}
        empty="No tag immutability rules: every tag of this project can be moved and deleted."
        columns={
          <>
            <th>For the repositories</th>
            <th>Tags</th>
            <th>Status</th>
            {canUpdate || canDelete ? <th aria-label="Actions" /> : null}
          </>
        }
        row={(r) => {
          const words = describeRule(r);
          return (
            <tr key={r.id} data-rule={r.id}>
              <td>{words.repositories}</td>
              <td>{words.tags}</td>
              <td>
                {r.disabled ? (
                  <span className="badge">Disabled</span>
                ) : (
                  <span className="badge badge-ok">Enabled</span>
                )}
              </td>
              {canUpdate || canDelete ? (
                <td className="row">
                  <RowPolicyActions
                    enabled={!r.disabled}
                    canUpdate={canUpdate}
                    canDelete={canDelete}
                    toggling={toggle.isPending}
                    onEdit={() => setEditing(r)}
                    onToggle={() => toggle.mutate(r)}
                    onDelete={() => setDeleting(r)}
                  />
                </td>
              ) : null}
            </tr>
          );
        }}
      />
      {editing ? (
        <RuleDialog
          projectId={pid}
          rule={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
        />
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title="Delete rule"
          message={`Delete the rule for repositories ${describeRule(deleting).repositories}, tags ${describeRule(deleting).tags}? Those tags can then be moved and deleted.`}
          onConfirm={() => remove.mutateAsync(deleting)}
          onClose={() => setDeleting(null)}
        />
      ) : null}
    </>
  );
}

function RuleDialog(props: { projectId: number; rule: ImmutableRule | null; onClose: () => void }) {
  const [fields, setFields] = useState<ImmutableRuleFields>(
    props.rule
      ? fieldsOf(props.rule)
      : {
          repoDecoration: 'repoMatches',
          repoPattern: '**',
          tagDecoration: 'matches',
          tagPattern: '**',
          disabled: false,
          priority: 0,
        },
  );
  const set = (change: Partial<ImmutableRuleFields>) => setFields((f) => ({ ...f, ...change }));
  const save = useAction(
    () => saveImmutableRule(props.projectId, fields, props.rule?.id),
    [immutableRuleKeys.list(props.projectId)],
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
    <Dialog
      title={props.rule ? 'Edit Tag Immutability Rule' : 'Add Tag Immutability Rule'}
      onClose={props.onClose}
    >
      <form onSubmit={(e) => void submit(e)}>
        <SelectorField
          label="For the repositories"
          name="repositories"
          decoration={fields.repoDecoration}
          decorations={['repoMatches', 'repoExcludes']}
          pattern={fields.repoPattern}
          onChange={(d, p) =>
            set({ repoDecoration: d as ImmutableRuleFields['repoDecoration'], repoPattern: p })
          }
        />
        <SelectorField
          label="Tags"
          name="tags"
          decoration={fields.tagDecoration}
          decorations={['matches', 'excludes']}
          pattern={fields.tagPattern}
          onChange={(d, p) =>
            set({ tagDecoration: d as ImmutableRuleFields['tagDecoration'], tagPattern: p })
          }
        />
        <ErrorNote error={save.error} />
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button
            type="submit"
            className="btn btn-primary"
            disabled={save.isPending || !fields.repoPattern.trim() || !fields.tagPattern.trim()}
          >
            {props.rule ? 'Save' : 'Add'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** "matching" or "excluding", and the pattern: one selector of a rule (immutability and retention). */
export function SelectorField(props: {
  label: string;
  name: string;
  decoration: string;
  /** The matching decoration, then the excluding one. */
  decorations: [string, string];
  pattern: string;
  onChange: (decoration: string, pattern: string) => void;
}) {
  return (
    <Field
      label={props.label}
      hint="Separate several with commas; * matches within one path segment, ** across segments."
    >
      {(id) => (
        <div className="row">
          <select
            aria-label={`${props.label.replace(/^For the r/, 'R')} matching or excluding`}
            value={props.decoration}
            onChange={(e) => props.onChange(e.target.value, props.pattern)}
          >
            <option value={props.decorations[0]}>matching</option>
            <option value={props.decorations[1]}>excluding</option>
          </select>
          <input
            id={id}
            name={props.name}
            required
            value={props.pattern}
            onChange={(e) => props.onChange(props.decoration, e.target.value)}
          />
        </div>
      )}
    </Field>
  );
}
