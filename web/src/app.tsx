import { Navigate, Route, Routes, useLocation } from 'react-router';
import type { ReactNode } from 'react';
import { useCurrentUser } from './api/session';
import { ErrorNote, Spinner } from './components/ui';
import { Layout } from './layout';
import { SignInPage } from './pages/sign-in/sign-in-page';
import { NotFoundPage } from './pages/not-found-page';

/** Routes follow Harbor's portal (/harbor/projects/…, /account/sign-in) so links people share carry over. */
export function App() {
  return (
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
        <Route path="*" element={<NotFoundPage />} />
      </Route>
      <Route path="/" element={<Navigate to="/harbor/projects" replace />} />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
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
