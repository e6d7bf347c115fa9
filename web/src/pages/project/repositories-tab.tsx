import { useState } from 'react';
import { Link } from 'react-router';
import { useAction, usePagedList } from '../../api/hooks';
import { projectKeys } from '../../api/projects';
import { deleteRepository, repositoryKeys, repositoryList } from '../../api/repositories';
import type { Repository } from '../../api/types';
import { ListPage } from '../../components/list-page';
import { ConfirmDialog, formatTime } from '../../components/ui';
import { useProjectContext } from './project-page';

/** The project's repositories: search, artifact and pull counts, last modified; delete when allowed. */
export function RepositoriesTab() {
  const { project, can } = useProjectContext();
  const [search, setSearch] = useState('');
  const [deleting, setDeleting] = useState<Repository | null>(null);
  const list = usePagedList(repositoryList(project.name, { name: search }));
  const remove = useAction(
    (r: Repository) => deleteRepository(project.name, shortName(r.name, project.name)),
    [repositoryKeys.all(project.name), projectKeys.summary(project.project_id)],
  );
  return (
    <>
      <ListPage
        list={list}
        search={{
          value: search,
          onChange: setSearch,
          label: 'Filter repositories by name',
          placeholder: 'Filter by name',
        }}
        empty={(searching) =>
          searching
            ? `No repository matches "${search}".`
            : 'No repositories yet: push an image (see PUSH COMMAND).'
        }
        columns={
          <>
            <th>Name</th>
            <th className="num">Artifacts</th>
            <th className="num">Pulls</th>
            <th className="hide-narrow">Last Modified Time</th>
            {can('repository', 'delete') ? <th aria-label="Actions" /> : null}
          </>
        }
        row={(r) => (
          <tr key={r.id}>
            <td>
              <Link to={repositoryUrl(project.project_id, shortName(r.name, project.name))}>{r.name}</Link>
            </td>
            <td className="num">{r.artifact_count ?? 0}</td>
            <td className="num">{r.pull_count ?? 0}</td>
            <td className="hide-narrow">{formatTime(r.update_time ?? r.creation_time)}</td>
            {can('repository', 'delete') ? (
              <td>
                <button type="button" className="btn btn-small" onClick={() => setDeleting(r)}>
                  Delete
                </button>
              </td>
            ) : null}
          </tr>
        )}
      />
      {deleting ? (
        <ConfirmDialog
          title="Delete repository"
          message={`Delete ${deleting.name} and every artifact in it? This cannot be undone.`}
          onConfirm={() => remove.mutateAsync(deleting)}
          onClose={() => setDeleting(null)}
        />
      ) : null}
    </>
  );
}

/** "proj/a/b" → "a/b": the API wants the name inside the project. */
export function shortName(fullName: string, projectName: string): string {
  return fullName.startsWith(projectName + '/') ? fullName.slice(projectName.length + 1) : fullName;
}

export function repositoryUrl(projectId: number, repo: string): string {
  return `/harbor/projects/${projectId}/repositories/${repo}/artifacts-tab`;
}
