import { useState, type FormEvent } from 'react';
import { addTag, artifactKeys, deleteTag } from '../../api/artifacts';
import { useAction } from '../../api/hooks';
import type { Tag } from '../../api/types';
import { ConfirmDialog, Empty, ErrorNote, formatTime } from '../../components/ui';
import type { ArtifactSectionProps } from './artifact-sections';

const TAG = /^[\w][\w.-]{0,127}$/;

/** The artifact's tags: add one, remove one. */
export function TagsSection({ ctx, artifact, artifactRef }: ArtifactSectionProps) {
  const [name, setName] = useState('');
  const [removing, setRemoving] = useState<Tag | null>(null);
  const invalidate = [artifactKeys.all(ctx.project.name, ctx.repo)];
  const add = useAction(() => addTag(artifactRef, name), invalidate);
  const remove = useAction((t: Tag) => deleteTag(artifactRef, t.name), invalidate);
  const tags = artifact.tags ?? [];
  const invalid = name !== '' && !TAG.test(name);
  async function submit(e: FormEvent) {
    e.preventDefault();
    try {
      await add.mutateAsync(undefined);
      setName('');
    } catch {
      // shown below
    }
  }
  return (
    <>
      {ctx.can('tag', 'create') ? (
        <form className="toolbar" onSubmit={(e) => void submit(e)}>
          <input
            className="search"
            name="tag_name"
            aria-label="New tag"
            placeholder="New tag, e.g. v1.2.0"
            aria-invalid={invalid}
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
          <button type="submit" className="btn btn-primary" disabled={!name || invalid || add.isPending}>
            Add Tag
          </button>
          {invalid ? (
            <span className="field-error">Letters, digits, _ . - ; up to 128; not starting with . or -</span>
          ) : null}
        </form>
      ) : null}
      <ErrorNote error={add.error} />
      {tags.length === 0 ? (
        <Empty>No tags: this artifact is reachable by digest only.</Empty>
      ) : (
        <div className="table-wrap">
          <table aria-label="Tags">
            <thead>
              <tr>
                <th>Tag</th>
                <th>Push Time</th>
                <th>Pull Time</th>
                {ctx.can('tag', 'delete') ? <th aria-label="Actions" /> : null}
              </tr>
            </thead>
            <tbody>
              {tags.map((t) => (
                <tr key={t.name}>
                  <td>
                    {t.name} {t.immutable ? <span className="badge badge-warn">immutable</span> : null}
                  </td>
                  <td>{formatTime(t.push_time)}</td>
                  <td>{formatTime(t.pull_time)}</td>
                  {ctx.can('tag', 'delete') ? (
                    <td>
                      <button type="button" className="btn btn-small" onClick={() => setRemoving(t)}>
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
      {removing ? (
        <ConfirmDialog
          title="Remove tag"
          message={`Remove tag ${removing.name}? The artifact stays.`}
          confirmLabel="Remove"
          onConfirm={() => remove.mutateAsync(removing)}
          onClose={() => setRemoving(null)}
        />
      ) : null}
    </>
  );
}
