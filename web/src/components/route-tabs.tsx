import { NavLink, Outlet } from 'react-router';

/** A page whose tabs are child routes (`base/path`), as Harbor's Clean Up and Interrogation Services. */
export function RouteTabs(props: {
  title: string;
  base: string;
  tabs: readonly (readonly [string, string])[];
}) {
  return (
    <>
      <h1>{props.title}</h1>
      <nav className="tabs" aria-label={props.title}>
        {props.tabs.map(([path, label]) => (
          <NavLink key={path} to={`${props.base}/${path}`}>
            {label}
          </NavLink>
        ))}
      </nav>
      <Outlet />
    </>
  );
}
