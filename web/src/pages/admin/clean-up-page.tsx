import { NavLink, Outlet } from 'react-router';

/** The tabs of Administration → Clean Up, as Harbor's /harbor/clearing-job/…; each is a child route. */
const TABS = [
  ['gc', 'Garbage Collection'],
  ['audit-log-purge', 'Log Rotation'],
] as const;

/** Administration → Clean Up: garbage collection and audit log rotation, as in Harbor. */
export function CleanUpPage() {
  return (
    <>
      <h1>Clean Up</h1>
      <nav className="tabs" aria-label="Clean Up">
        {TABS.map(([path, label]) => (
          <NavLink key={path} to={`/harbor/clearing-job/${path}`}>
            {label}
          </NavLink>
        ))}
      </nav>
      <Outlet />
    </>
  );
}
