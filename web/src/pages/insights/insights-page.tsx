import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { insightsQuery, type Insights } from '../../api/insights';
import { useCurrentUser } from '../../api/session';
import { formatBytes, QueryState } from '../../components/ui';
import {
  ActivityChart,
  StorageByProjectChart,
  StorageTrendChart,
  TopRepositoriesChart,
  TopUsersChart,
  VulnerabilityChart,
} from './charts';

export const rangeChoices = [7, 30, 90] as const;

/** The range picker shared by the Insights page and the project summary's charts. */
export function RangePicker(props: { days: number; onChange: (days: number) => void }) {
  return (
    <label className="range-picker">
      Period{' '}
      <select value={props.days} onChange={(e) => props.onChange(Number(e.target.value))}>
        {rangeChoices.map((d) => (
          <option key={d} value={d}>
            Last {d} days
          </option>
        ))}
      </select>
    </label>
  );
}

/** The range's totals, one number a card. */
export function Totals({ totals }: { totals: Insights['totals'] }) {
  const cards: [string, string][] = [
    ['Pulls', String(totals.pulls)],
    ['Pushes', String(totals.pushes)],
    ['Pulled', formatBytes(totals.pull_bytes)],
    ['Pushed', formatBytes(totals.push_bytes)],
    ['Active users', String(totals.active_users)],
  ];
  return (
    <div className="cards">
      {cards.map(([label, value]) => (
        <section key={label} className="card" aria-label={label}>
          <h3>{label}</h3>
          <div className="big-number">{value}</div>
        </section>
      ))}
    </div>
  );
}

/** Insights: the registry's use at a glance (every project for administrators, the user's own otherwise). */
export function InsightsPage() {
  const [days, setDays] = useState(30);
  const query = useQuery(insightsQuery(days));
  const admin = !!useCurrentUser().data?.sysadmin_flag;
  return (
    <>
      <div className="page-head">
        <h1>Insights</h1>
        <RangePicker days={days} onChange={setDays} />
      </div>
      <p className="muted">
        {admin ? 'All projects' : 'Your projects'}, counted per day (UTC) as pushes, pulls and deletes happen.
      </p>
      <QueryState query={query}>
        {(o) => (
          <>
            <Totals totals={o.totals} />
            <div className="chart-grid">
              <ActivityChart data={o.activity} />
              <StorageByProjectChart data={o.storage_by_project} />
              <StorageTrendChart data={o.storage} />
              <TopRepositoriesChart data={o.top_repositories} />
              <TopUsersChart data={o.top_users} />
              <VulnerabilityChart data={o.vulnerabilities} />
            </div>
          </>
        )}
      </QueryState>
    </>
  );
}
