import { Navigate, Route, Routes, useLocation } from 'react-router';
import { lazy, Suspense, type ReactNode } from 'react';
import { useCurrentUser } from './api/session';
import { ErrorNote, Spinner } from './components/ui';
import { Layout } from './layout';
import { SignInPage } from './pages/sign-in/sign-in-page';
import { NotFoundPage } from './pages/not-found-page';
import { ConfigTab } from './pages/project/config-tab';
import { WebhooksTab } from './pages/project/webhooks-tab';
import { PreheatTab } from './pages/project/preheat-tab';
import { ImmutabilityTab } from './pages/project/immutability-tab';
import { RetentionTab } from './pages/project/retention-tab';
import { MembersTab } from './pages/project/members-tab';
import { ProjectPage } from './pages/project/project-page';
import { RepositoriesTab } from './pages/project/repositories-tab';
import { RobotsTab } from './pages/project/robots-tab';
import { ScannerTab } from './pages/project/scanner-tab';
import { LabelsTab, LogsTab } from './pages/project/small-tabs';
import { SummaryTab } from './pages/project/summary-tab';
import { ProjectsPage } from './pages/projects/projects-page';
import { RepositoryRoute } from './pages/repository/repository-page';

// Administration and the profile are loaded on first visit, keeping them out of the first download.
const AuditLogsPage = lazy(() =>
  import('./pages/admin/audit-logs-page').then((m) => ({ default: m.AuditLogsPage })),
);
const CleanUpPage = lazy(() =>
  import('./pages/admin/clean-up-page').then((m) => ({ default: m.CleanUpPage })),
);
const GcTab = lazy(() => import('./pages/admin/gc-tab').then((m) => ({ default: m.GcTab })));
const ConfigPage = lazy(() => import('./pages/admin/config-page').then((m) => ({ default: m.ConfigPage })));
const GroupsPage = lazy(() => import('./pages/admin/groups-page').then((m) => ({ default: m.GroupsPage })));
const QuotasPage = lazy(() => import('./pages/admin/quotas-page').then((m) => ({ default: m.QuotasPage })));
const DistributionsPage = lazy(() =>
  import('./pages/admin/distributions-page').then((m) => ({ default: m.DistributionsPage })),
);
const RegistriesPage = lazy(() =>
  import('./pages/admin/registries-page').then((m) => ({ default: m.RegistriesPage })),
);
const ReplicationsPage = lazy(() =>
  import('./pages/admin/replications-page').then((m) => ({ default: m.ReplicationsPage })),
);
const JobServicePage = lazy(() =>
  import('./pages/admin/job-service-page').then((m) => ({ default: m.JobServicePage })),
);
// Clean Up's Log Rotation tab (a child route of CleanUpPage, beside Garbage Collection).
const LogRotationTab = lazy(() =>
  import('./pages/admin/log-rotation-tab').then((m) => ({ default: m.LogRotationTab })),
);
// Insights carries the chart library (recharts): loaded only when the page or a project summary is shown.
const InsightsPage = lazy(() =>
  import('./pages/insights/insights-page').then((m) => ({ default: m.InsightsPage })),
);
// Interrogation Services (scanners, scan all, the security hub with its recharts chart), loaded on first visit.
const InterrogationPage = lazy(() =>
  import('./pages/interrogation/interrogation-page').then((m) => ({ default: m.InterrogationPage })),
);
const ScannersTab = lazy(() =>
  import('./pages/interrogation/scanners-tab').then((m) => ({ default: m.ScannersTab })),
);
const VulnerabilityTab = lazy(() =>
  import('./pages/interrogation/vulnerability-tab').then((m) => ({ default: m.VulnerabilityTab })),
);
const SecurityHubTab = lazy(() =>
  import('./pages/interrogation/security-hub-tab').then((m) => ({ default: m.SecurityHubTab })),
);
const UsersPage = lazy(() => import('./pages/admin/users-page').then((m) => ({ default: m.UsersPage })));
const ProfilePage = lazy(() =>
  import('./pages/account/profile-page').then((m) => ({ default: m.ProfilePage })),
);

/** Routes follow Harbor's portal (/harbor/projects/…, /account/sign-in) so links people share carry over. */
export function App() {
  return (
    <Suspense fallback={<Spinner />}>
      <Routes>
        <Route path="/account/sign-in" element={<SignInPage />} />
        <Route
          path="/harbor"
          element={
            <RequireUser>
              <Layout />
            </RequireUser>
          }
        >
          <Route index element={<Navigate to="projects" replace />} />
          <Route path="projects" element={<ProjectsPage />} />
          <Route path="projects/:projectId" element={<ProjectPage />}>
            <Route index element={<Navigate to="repositories" replace />} />
            <Route path="summary" element={<SummaryTab />} />
            <Route path="repositories" element={<RepositoriesTab />} />
            <Route path="members" element={<MembersTab />} />
            <Route path="robot-account" element={<RobotsTab />} />
            <Route path="labels" element={<LabelsTab />} />
            <Route path="scanner" element={<ScannerTab />} />
            <Route path="tag-strategy/tag-retention" element={<RetentionTab />} />
            <Route path="tag-strategy/immutable-tag" element={<ImmutabilityTab />} />
            <Route path="webhook" element={<WebhooksTab />} />
            <Route path="p2p-provider/policies" element={<PreheatTab />} />
            <Route path="logs" element={<LogsTab />} />
            <Route path="configs" element={<ConfigTab />} />
          </Route>
          <Route path="projects/:projectId/repositories/*" element={<RepositoryRoute />} />
          <Route path="insights" element={<InsightsPage />} />
          <Route path="account" element={<ProfilePage />} />
          <Route
            path="users"
            element={
              <RequireAdmin>
                <UsersPage />
              </RequireAdmin>
            }
          />
          <Route
            path="groups"
            element={
              <RequireAdmin>
                <GroupsPage />
              </RequireAdmin>
            }
          />
          <Route
            path="quotas"
            element={
              <RequireAdmin>
                <QuotasPage />
              </RequireAdmin>
            }
          />
          <Route
            path="registries"
            element={
              <RequireAdmin>
                <RegistriesPage />
              </RequireAdmin>
            }
          />
          <Route
            path="distribution/instances"
            element={
              <RequireAdmin>
                <DistributionsPage />
              </RequireAdmin>
            }
          />
          <Route
            path="replications"
            element={
              <RequireAdmin>
                <ReplicationsPage />
              </RequireAdmin>
            }
          />
          <Route
            path="logs"
            element={
              <RequireAdmin>
                <AuditLogsPage />
              </RequireAdmin>
            }
          />
          <Route
            path="job-service-dashboard"
            element={
              <RequireAdmin>
                <JobServicePage />
              </RequireAdmin>
            }
          />
          <Route path="clean-up" element={<Navigate to="/harbor/clearing-job/gc" replace />} />
          <Route
            path="clearing-job"
            element={
              <RequireAdmin>
                <CleanUpPage />
              </RequireAdmin>
            }
          >
            <Route index element={<Navigate to="gc" replace />} />
            <Route path="gc" element={<GcTab />} />
            <Route path="audit-log-purge" element={<LogRotationTab />} />
          </Route>
          <Route
            path="interrogation-services"
            element={
              <RequireAdmin>
                <InterrogationPage />
              </RequireAdmin>
            }
          >
            <Route index element={<Navigate to="scanners" replace />} />
            <Route path="scanners" element={<ScannersTab />} />
            <Route path="vulnerability" element={<VulnerabilityTab />} />
            <Route path="security-hub" element={<SecurityHubTab />} />
          </Route>
          <Route
            path="configs"
            element={
              <RequireAdmin>
                <ConfigPage />
              </RequireAdmin>
            }
          />
          <Route path="*" element={<NotFoundPage />} />
        </Route>
        <Route path="/" element={<Navigate to="/harbor/projects" replace />} />
        <Route path="*" element={<NotFoundPage />} />
      </Routes>
    </Suspense>
  );
}

function RequireUser({ children }: { children: ReactNode }) {
  const user = useCurrentUser();
  const location = useLocation();
  if (user.isLoading) return <Spinner />;
  if (user.error) return <ErrorNote error={user.error} title="Could not load your session" />;
  if (!user.data) {
    const back = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/account/sign-in?redirect_url=${back}`} replace />;
  }
  return <>{children}</>;
}

function RequireAdmin({ children }: { children: ReactNode }) {
  const user = useCurrentUser().data;
  if (!user?.sysadmin_flag) return <NotFoundPage />;
  return <>{children}</>;
}
