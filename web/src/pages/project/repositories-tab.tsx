import { useState } from 'react';
import { Link } from 'react-router';
import { api, q, repoPath } from '../../api/client';
import { useAction, usePagedList } from '../../api/hooks';
import type { Repository } from '../../api/types';
import { ConfirmDialog, Empty, ErrorNote, formatTime, Pager, Spinner } from '../../components/ui';
import { useProjectContext } from './project-page';

/** The project's repositories: search, artifact and pull counts, last modified; delete when allowed. */
export function RepositoriesTab() {
  const { project, can } = useProjectContext();
  const [search, setSearch] = useState('');
  const [deleting, setDeleting] = useState<Repository | null>(null);
  const list = usePagedList<Repository>(
    ['repositories', project.name],
    `/projects/${project.name}/repositories`,
    {
      q: q({ name: search ? `~${search}` : undefined }),
    },
  );
  const remove = useAction(
    (r: Repository) =>
      api(`/projects/${project.name}/repositories/${repoPath(shortName(r.name, project.name))}`, {
        method: 'DELETE',
      }),
    [
      ['repositories', project.name],
      ['project-summary', project.project_id],
    ],
  );
  return (
    <>
      <div className="toolbar">
        <div className="grow" />
        <input
          className="search"
          type="search"
          aria-label="Filter repositories by name"
          placeholder="Filter by name"
          value={search}
          onChange={(e) => {
            setSearch(e.target.value);
            list.setPage(1);
          }}
        />
      </div>
      {list.isLoading ? (
        <Spinner />
      ) : list.error ? (
        <ErrorNote error={list.error} />
      ) : list.data?.items.length === 0 ? (
        <Empty>
          {search
            ? `No repository matches "${search}".`
            : 'No repositories yet: push an image (see PUSH COMMAND).'}
        </Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th className="num">Artifacts</th>
                <th className="num">Pulls</th>
                <th className="hide-narrow">Last Modified Time</th>
                {can('repository', 'delete') ? <th aria-label="Actions" /> : null}
              </tr>
            </thead>
            <tbody>
              {list.data?.items.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Link to={repositoryUrl(project.project_id, shortName(r.name, project.name))}>
                      {r.name}
                    </Link>
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
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data ? (
        <Pager page={list.page} pageSize={list.pageSize} total={list.data.total} onPage={list.setPage} />
      ) : null}
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
