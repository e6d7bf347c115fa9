import { useEffect, useRef, useState } from 'react';
import { Link, NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { useCurrentUser, useSignOut } from './api/session';
import { useDismiss } from './components/use-dismiss';

const ADMIN_LINKS = [
  ['users', 'Users'],
  ['groups', 'Groups'],
  ['quotas', 'Project Quotas'],
  ['registries', 'Registries'],
  ['replications', 'Replications'],
  ['distribution/instances', 'Distributions'],
  ['logs', 'Audit Logs'],
  ['interrogation-services', 'Interrogation Services'],
  ['job-service-dashboard', 'Job Service Dashboard'],
  ['clearing-job', 'Clean Up'],
  ['configs', 'Configuration'],
] as const;

/** Header, navigation (a drawer on phones) and the user menu around every signed-in page. */
export function Layout() {
  const user = useCurrentUser().data;
  const location = useLocation();
  const [navOpen, setNavOpen] = useState(false);
  useEffect(() => setNavOpen(false), [location.pathname]);
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button
          type="button"
          className="btn btn-icon nav-toggle"
          aria-label="Menu"
          aria-expanded={navOpen}
          aria-controls="sidenav"
          onClick={() => setNavOpen((o) => !o)}
        >
          ☰
        </button>
        <Link to="/harbor/projects" className="brand">
          <img src="/favicon.svg" alt="" width="28" height="28" />
          <span>Berth</span>
        </Link>
        <div className="grow" />
        {user ? <UserMenu username={user.username} /> : null}
      </header>
      <div className="body">
        <nav id="sidenav" className={navOpen ? 'sidenav open' : 'sidenav'} aria-label="Main">
          <NavLink to="/harbor/projects">Projects</NavLink>
          <NavLink to="/harbor/insights">Insights</NavLink>
          {user?.sysadmin_flag ? (
            <>
              <div className="nav-heading">Administration</div>
              {ADMIN_LINKS.map(([path, label]) => (
                <NavLink key={path} to={`/harbor/${path}`}>
                  {label}
                </NavLink>
              ))}
            </>
          ) : null}
        </nav>
        <main id="main" className="content" tabIndex={-1}>
          <Outlet />
        </main>
      </div>
    </div>
  );
}

function UserMenu({ username }: { username: string }) {
  const [open, setOpen] = useState(false);
  const signOut = useSignOut();
  const navigate = useNavigate();
  const ref = useRef<HTMLDivElement>(null);
  useDismiss(open, () => setOpen(false), ref);
  return (
    <div className="menu" ref={ref}>
      <button
        type="button"
        className="btn btn-ghost"
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
        data-testid="user-menu"
      >
        {username} ▾
      </button>
      {open ? (
        <div className="menu-list" role="menu">
          <Link role="menuitem" to="/harbor/account" onClick={() => setOpen(false)}>
            User Profile
          </Link>
          <button
            type="button"
            role="menuitem"
            onClick={async () => {
              setOpen(false);
              await signOut();
              navigate('/account/sign-in', { replace: true });
            }}
          >
            Log Out
          </button>
        </div>
      ) : null}
    </div>
  );
}
