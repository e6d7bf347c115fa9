import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../../api/client';
import { useAction } from '../../api/hooks';
import type { Artifact, Label } from '../../api/types';
import { Empty, ErrorNote } from '../../components/ui';
import type { RepoContext } from '../repository/repository-page';
import { LabelChip } from '../shared/labels-editor';

/** Labels on the artifact; add one of the global or project labels, remove one. */
export function ArtifactLabelsSection({
  ctx,
  artifact,
  base,
}: {
  ctx: RepoContext;
  artifact: Artifact;
  base: string;
}) {
  const [choice, setChoice] = useState('');
  const available = useQuery({
    queryKey: ['labels-available', ctx.project.project_id],
    queryFn: async () => [
      ...(await api<Label[]>('/labels', { query: { scope: 'g', page_size: 100 } })),
      ...(await api<Label[]>('/labels', {
        query: { scope: 'p', project_id: ctx.project.project_id, page_size: 100 },
      })),
    ],
  });
  const invalidate = [
    ['artifact', ctx.project.name, ctx.repo],
    ['artifacts', ctx.project.name, ctx.repo],
  ];
  const add = useAction((id: number) => api(`${base}/labels`, { method: 'POST', body: { id } }), invalidate);
  const remove = useAction((id: number) => api(`${base}/labels/${id}`, { method: 'DELETE' }), invalidate);
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
