import DOMPurify from 'dompurify';
import { marked } from 'marked';
import { useMemo, useState } from 'react';
import { useAction } from '../../api/hooks';
import { repositoryKeys, updateRepositoryDescription } from '../../api/repositories';
import type { Repository } from '../../api/types';
import { ErrorNote } from '../../components/ui';
import type { RepoContext } from './repository-page';

/** The repository's Markdown description, sanitised before it is shown; editable by maintainers. */
export function RepositoryDescription({ ctx, repository }: { ctx: RepoContext; repository: Repository }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(repository.description ?? '');
  const html = useMemo(
    () => DOMPurify.sanitize(marked.parse(repository.description ?? '', { async: false })),
    [repository.description],
  );
  const save = useAction(
    () => updateRepositoryDescription(ctx.project.name, ctx.repo, text),
    [repositoryKeys.detail(ctx.project.name, ctx.repo)],
  );
  const editable = ctx.can('repository', 'update');
  if (editing) {
    return (
      <section aria-label="Description">
        <textarea
          className="description-editor"
          aria-label="Description (Markdown)"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <ErrorNote error={save.error} />
        <div className="row">
          <button
            type="button"
            className="btn btn-primary"
            disabled={save.isPending}
            onClick={async () => {
              try {
                await save.mutateAsync(undefined);
                setEditing(false);
              } catch {
                // shown above
              }
            }}
          >
            Save
          </button>
          <button type="button" className="btn" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </div>
      </section>
    );
  }
  return (
    <section aria-label="Description">
      {repository.description ? (
        <div className="markdown" dangerouslySetInnerHTML={{ __html: html }} />
      ) : (
        <p className="muted">No description.</p>
      )}
      {editable ? (
        <button
          type="button"
          className="btn btn-small"
          onClick={() => {
            setText(repository.description ?? '');
            setEditing(true);
          }}
        >
          Edit description
        </button>
      ) : null}
    </section>
  );
}
