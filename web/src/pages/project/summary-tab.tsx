import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense, useState } from 'react';
import { projectSummaryQuery } from '../../api/projects';
import { useCurrentUser } from '../../api/session';
import { formatBytes, QueryState, Spinner } from '../../components/ui';
import { QuotaDialog } from '../admin/quota-dialog';
import { quotaState } from '../admin/quotas-page';
import { limitText } from '../projects/projects-page';
import { useProjectContext } from './project-page';

// The charts (and recharts with them) load after the summary's numbers.
const ProjectInsights = lazy(() =>
  import('../insights/project-insights').then((m) => ({ default: m.ProjectInsights })),
);

/** Repository count, members by role, the storage quota bar (editable by administrators) and the project's charts. */
export function SummaryTab() {
  const { project } = useProjectContext();
  const summary = useQuery(projectSummaryQuery(project.project_id));
  const admin = !!useCurrentUser().data?.sysadmin_flag;
  const [editing, setEditing] = useState(false);
  return (
    <QueryState query={summary}>
      {(s) => {
        const used = s.quota?.used?.storage ?? 0;
        const hard = s.quota?.hard?.storage;
        const pct = hard && hard > 0 ? Math.min(100, Math.round((used / hard) * 100)) : 0;
        return (
          <>
            <div className="cards">
              {s.registry ? (
                <section className="card" aria-label="Proxy Cache">
                  <h3>Proxy Cache</h3>
                  <dl className="facts">
                    <dt>Endpoint</dt>
                    <dd>{s.registry.name}</dd>
                    <dt>URL</dt>
                    <dd>{s.registry.url}</dd>
                    <dt>Provider</dt>
                    <dd>{s.registry.type}</dd>
                  </dl>
                </section>
              ) : null}
              <section className="card" aria-label="Repositories">
                <h3>Repositories</h3>
                <div className="big-number">{s.repo_count ?? 0}</div>
              </section>
              <section className="card" aria-label="Members">
                <h3>Members</h3>
                <dl className="facts">
                  <dt>Project Admin</dt>
                  <dd>{s.project_admin_count ?? 0}</dd>
                  <dt>Maintainer</dt>
                  <dd>{s.maintainer_count ?? 0}</dd>
                  <dt>Developer</dt>
                  <dd>{s.developer_count ?? 0}</dd>
                  <dt>Guest</dt>
                  <dd>{s.guest_count ?? 0}</dd>
                  <dt>Limited Guest</dt>
                  <dd>{s.limited_guest_count ?? 0}</dd>
                </dl>
              </section>
              <section className="card" aria-label="Quota">
                <h3>Storage Quota</h3>
                <div
                  className="quota-bar"
                  role="progressbar"
                  aria-valuenow={pct}
                  aria-valuemin={0}
                  aria-valuemax={100}
                  aria-label="Storage used"
                >
                  <div style={{ width: `${pct}%` }} />
                </div>
                <div>
                  {formatBytes(used)} of {limitText(hard)}
                </div>
                {hard !== undefined && hard >= 0 && used >= hard ? (
                  <p className="note note-error" role="status">
                    {quotaState(used, hard)} until images are deleted or the limit is raised.
                  </p>
                ) : null}
                {admin ? (
                  <button type="button" className="btn btn-small" onClick={() => setEditing(true)}>
                    Edit quota
                  </button>
                ) : null}
                {editing ? (
                  <QuotaDialog
                    projectId={project.project_id}
                    projectName={project.name}
                    hard={hard}
                    onClose={() => setEditing(false)}
                  />
                ) : null}
              </section>
            </div>
            <Suspense fallback={<Spinner label="Loading charts…" />}>
              <ProjectInsights projectId={project.project_id} />
            </Suspense>
          </>
        );
      }}
    </QueryState>
  );
}
