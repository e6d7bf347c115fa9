import { RouteTabs } from '../../components/route-tabs';

/** The tabs of Administration → Interrogation Services, as Harbor's /harbor/interrogation-services/…. */
const TABS = [
  ['scanners', 'Scanners'],
  ['vulnerability', 'Vulnerability'],
  ['security-hub', 'Security Hub'],
] as const;

/** Administration → Interrogation Services: scanners, scan all and the databases, the security hub. */
export function InterrogationPage() {
  return <RouteTabs title="Interrogation Services" base="/harbor/interrogation-services" tabs={TABS} />;
}
