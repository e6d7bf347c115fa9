import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { usePagedList } from '../../api/hooks';
import { projectList, projectQuotasQuery } from '../../api/projects';
import { registryChoicesQuery } from '../../api/registries';
import { useCurrentUser, useSystemInfo } from '../../api/session';
import { roleName } from '../../api/types';
import { ListPage } from '../../components/list-page';
import { formatBytes, formatTime } from '../../components/ui';
import { CreateProjectDialog } from './create-project-dialog';

/** Every project the user can see, searchable and paged, with quota use and a New Project dialog. */
export function ProjectsPage() {
  const [search, setSearch] = useState('');
  const [creating, setCreating] = useState(false);
  const navigate = useNavigate();
  const user = useCurrentUser().data;
  const info = useSystemInfo().data;
  const list = usePagedList(projectList({ name: search }));
  const ids = (list.data?.items ?? []).map((p) => p.project_id);
  // Quotas are a system resource in Harbor: only administrators may read them, so others see no column.
  const quotas = useQuery({
    ...projectQuotasQuery(ids),
    enabled: !!user?.sysadmin_flag && ids.length > 0,
  });
  const quotaOf = (id: number) => quotas.data?.find((q) => String(q.ref?.id) === String(id));
  // Registry endpoints are an administrator's: others see the Proxy Cache mark without the upstream.
  const registries = useQuery({ ...registryChoicesQuery(), enabled: !!user?.sysadmin_flag });
  const upstreamOf = (id: number) => {
    const r = registries.data?.find((x) => x.id === id);
    return r ? `${r.name} (${r.url})` : '';
  };
  const mayCreate = user?.sysadmin_flag || info?.project_creation_restriction !== 'adminonly';

  return (
    <>
      <h1>Projects</h1>
      <ListPage
        list={list}
        actions={
          mayCreate ? (
            <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
              + New Project
            </button>
          ) : null
        }
        search={{
          value: search,
          onChange: setSearch,
          label: 'Filter projects by name',
          placeholder: 'Filter by name',
        }}
        empty={(searching) =>
          searching ? `No project matches "${search}".` : 'No projects yet. Create one to push images.'
        }
        columns={
          <>
            <th>Project Name</th>
            <th>Access Level</th>
            <th className="hide-narrow">Type</th>
            <th className="hide-narrow">Role</th>
            <th className="num">Repositories</th>
            {user?.sysadmin_flag ? <th className="hide-narrow">Quota Used</th> : null}
            <th className="hide-narrow">Creation Time</th>
          </>
        }
        row={(p) => {
          const quota = quotaOf(p.project_id);
          return (
            <tr key={p.project_id}>
              <td>
                <Link to={`/harbor/projects/${p.project_id}/repositories`}>{p.name}</Link>
              </td>
              <td>{p.metadata?.public === 'true' ? 'Public' : 'Private'}</td>
              <td className="hide-narrow">
                {p.registry_id ? (
                  <span className="badge" title={upstreamOf(p.registry_id)}>
                    Proxy Cache
                  </span>
                ) : (
                  'Project'
                )}
                {p.registry_id && upstreamOf(p.registry_id) ? ` ${upstreamOf(p.registry_id)}` : null}
              </td>
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
        }}
      />
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
