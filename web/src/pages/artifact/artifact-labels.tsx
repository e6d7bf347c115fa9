import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { addArtifactLabel, artifactKeys, removeArtifactLabel } from '../../api/artifacts';
import { useAction } from '../../api/hooks';
import { usableLabelsQuery } from '../../api/labels';
import { Empty, ErrorNote } from '../../components/ui';
import type { ArtifactSectionProps } from './artifact-sections';
import { LabelChip } from '../shared/labels-editor';

/** Labels on the artifact; add one of the global or project labels, remove one. */
export function ArtifactLabelsSection({ ctx, artifact, artifactRef }: ArtifactSectionProps) {
  const [choice, setChoice] = useState('');
  const available = useQuery(usableLabelsQuery(ctx.project.project_id));
  const invalidate = [artifactKeys.all(ctx.project.name, ctx.repo)];
  const add = useAction((id: number) => addArtifactLabel(artifactRef, id), invalidate);
  const remove = useAction((id: number) => removeArtifactLabel(artifactRef, id), invalidate);
  const current = artifact.labels ?? [];
  const addable = (available.data ?? []).filter((l) => !current.some((c) => c.id === l.id));
  const editable = ctx.can('artifact-label', 'create');
  return (
    <>
      {editable ? (
        <div className="toolbar">
          <select
            className="inline"
            aria-label="Label to add"
            value={choice}
            onChange={(e) => setChoice(e.target.value)}
          >
            <option value="">Choose a label…</option>
            {addable.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name}
                {l.scope === 'g' ? ' (global)' : ''}
              </option>
            ))}
          </select>
          <button
            type="button"
            className="btn btn-primary"
            disabled={!choice || add.isPending}
            onClick={() => add.mutate(Number(choice), { onSuccess: () => setChoice('') })}
          >
            Add Label
          </button>
        </div>
      ) : null}
      <ErrorNote error={add.error ?? remove.error ?? available.error} />
      {current.length === 0 ? (
        <Empty>No labels.</Empty>
      ) : (
        <ul className="plain-list">
          {current.map((l) => (
            <li key={l.id} className="row">
              <LabelChip label={l} />
              {editable ? (
                <button type="button" className="btn btn-small" onClick={() => remove.mutate(l.id)}>
                  Remove
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
