import { RouteTabs } from '../../components/route-tabs';

/** The tabs of Administration → Clean Up, as Harbor's /harbor/clearing-job/…; each is a child route. */
const TABS = [
  ['gc', 'Garbage Collection'],
  ['audit-log-purge', 'Log Rotation'],
] as const;

/** Administration → Clean Up: garbage collection and audit log rotation, as in Harbor. */
export function CleanUpPage() {
  return <RouteTabs title="Clean Up" base="/harbor/clearing-job" tabs={TABS} />;
}
