import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { api } from '../../api/client';
import { usePagedList } from '../../api/hooks';
import { useCurrentUser, useSystemInfo } from '../../api/session';
import { roleName, type Project, type Quota } from '../../api/types';
import { Empty, ErrorNote, formatBytes, formatTime, Pager, Spinner } from '../../components/ui';
import { CreateProjectDialog } from './create-project-dialog';

/** Every project the user can see, searchable and paged, with quota use and a New Project dialog. */
export function ProjectsPage() {
  const [search, setSearch] = useState('');
  const [creating, setCreating] = useState(false);
  const navigate = useNavigate();
  const user = useCurrentUser().data;
  const info = useSystemInfo().data;
  const list = usePagedList<Project>(['projects'], '/projects', {
    name: search || undefined,
    with_detail: true,
  });
  const ids = (list.data?.items ?? []).map((p) => p.project_id);
  // Quotas are a system resource in Harbor: only administrators may read them, so others see no column.
  const quotas = useQuery({
    queryKey: ['quotas', ids],
    enabled: !!user?.sysadmin_flag && ids.length > 0,
    queryFn: () => api<Quota[]>('/quotas', { query: { reference: 'project', page_size: 100 } }),
  });
  const quotaOf = (id: number) => quotas.data?.find((q) => String(q.ref?.id) === String(id));
  const mayCreate = user?.sysadmin_flag || info?.project_creation_restriction !== 'adminonly';

  return (
    <>
      <h1>Projects</h1>
      <div className="toolbar">
        {mayCreate ? (
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            + New Project
          </button>
        ) : null}
        <div className="grow" />
        <input
          className="search"
          type="search"
          aria-label="Filter projects by name"
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
      ) : list.data && list.data.items.length === 0 ? (
        <Empty>
          {search ? `No project matches "${search}".` : 'No projects yet. Create one to push images.'}
        </Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Project Name</th>
                <th>Access Level</th>
                <th className="hide-narrow">Role</th>
                <th className="num">Repositories</th>
                {user?.sysadmin_flag ? <th className="hide-narrow">Quota Used</th> : null}
                <th className="hide-narrow">Creation Time</th>
              </tr>
            </thead>
            <tbody>
              {list.data?.items.map((p) => {
                const quota = quotaOf(p.project_id);
                return (
                  <tr key={p.project_id}>
                    <td>
                      <Link to={`/harbor/projects/${p.project_id}/repositories`}>{p.name}</Link>
                    </td>
                    <td>{p.metadata?.public === 'true' ? 'Public' : 'Private'}</td>
                    <td className="hide-narrow">
                      {p.current_user_role_id ? roleName(p.current_user_role_id) : '—'}
                    </td>
                    <td className="num">{p.repo_count ?? 0}</td>
                    {user?.sysadmin_flag ? (
                      <td className="hide-narrow">
                        {quota
                          ? `${formatBytes(quota.used?.storage ?? 0)} of ${limitText(quota.hard?.storage)}`
                          : '—'}
                      </td>
                    ) : null}
                    <td className="hide-narrow">{formatTime(p.creation_time)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {list.data ? (
        <Pager page={list.page} pageSize={list.pageSize} total={list.data.total} onPage={list.setPage} />
      ) : null}
      {creating ? (
        <CreateProjectDialog
          onClose={() => setCreating(false)}
          onCreated={(id) => {
            setCreating(false);
            if (id) navigate(`/harbor/projects/${id}/repositories`);
          }}
        />
      ) : null}
    </>
  );
}

export function limitText(hard: number | undefined): string {
  return hard === undefined || hard < 0 ? 'unlimited' : formatBytes(hard);
}
