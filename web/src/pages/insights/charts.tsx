import type { ReactNode } from 'react';
import {
  Area,
  AreaChart,
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { Insights } from '../../api/insights';
import { formatBytes } from '../../components/ui';

// Charts are drawn by recharts (SVG), loaded with the Insights page and the project summary's charts only.
const colors = {
  pulls: '#1d4e89',
  pushes: '#2f9e6b',
  storage: '#6a4c93',
  critical: '#7f1d1d',
  high: '#b3261e',
  medium: '#d97706',
  low: '#ca8a04',
  unknown: '#8a94a3',
};

/** `2026-03-01` → `03-01`: the axis shows month and day; the tooltip the whole date. */
const shortDate = (d: string) => d.slice(5);
const bytesTick = (n: number) => formatBytes(n);
// No animation: the chart is drawn at once (and a screenshot or a test sees the final bars).
const still = { isAnimationActive: false, maxBarSize: 32 } as const;

/** A titled card around one chart, with its empty state; `label` names it for assistive technology. */
export function ChartCard(props: {
  title: string;
  empty?: string | false;
  children: ReactNode;
  wide?: boolean;
}) {
  return (
    <section
      className={props.wide ? 'card chart-card chart-wide' : 'card chart-card'}
      aria-label={props.title}
      data-chart={props.title}
    >
      <h3>{props.title}</h3>
      {props.empty ? (
        <p className="muted chart-empty">{props.empty}</p>
      ) : (
        <div className="chart">
          <ResponsiveContainer width="100%" height={240}>
            {props.children as React.ReactElement}
          </ResponsiveContainer>
        </div>
      )}
    </section>
  );
}

/** Pushes and pulls per day. */
export function ActivityChart({ data }: { data: Insights['activity'] }) {
  const none = data.every((d) => d.pushes === 0 && d.pulls === 0);
  return (
    <ChartCard title="Pull and push activity" empty={none && 'No pushes or pulls in this period.'} wide>
      <BarChart data={data}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="date" tickFormatter={shortDate} minTickGap={12} />
        <YAxis allowDecimals={false} width={40} />
        <Tooltip />
        <Legend />
        <Bar dataKey="pulls" name="Pulls" fill={colors.pulls} {...still} />
        <Bar dataKey="pushes" name="Pushes" fill={colors.pushes} {...still} />
      </BarChart>
    </ChartCard>
  );
}

/** Total storage (the projects' quota usage) per day. */
export function StorageTrendChart({ data }: { data: Insights['storage'] }) {
  const none = data.every((d) => d.used_bytes === 0);
  return (
    <ChartCard title="Storage over time" empty={none && 'Nothing stored in this period.'}>
      <AreaChart data={data}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="date" tickFormatter={shortDate} minTickGap={12} />
        <YAxis tickFormatter={bytesTick} width={72} />
        <Tooltip formatter={(v) => formatBytes(Number(v))} />
        <Area
          dataKey="used_bytes"
          name="Storage"
          stroke={colors.storage}
          fill={colors.storage}
          fillOpacity={0.25}
          {...still}
        />
      </AreaChart>
    </ChartCard>
  );
}

/** Storage used by each project on the last day (largest first). */
export function StorageByProjectChart({ data }: { data: Insights['storage_by_project'] }) {
  return (
    <ChartCard title="Storage by project" empty={data.length === 0 && 'No project stores anything yet.'}>
      <BarChart data={data} layout="vertical" margin={{ left: 16 }}>
        <CartesianGrid strokeDasharray="3 3" horizontal={false} />
        <XAxis type="number" tickFormatter={bytesTick} />
        <YAxis type="category" dataKey="project_name" width={110} />
        <Tooltip formatter={(v) => formatBytes(Number(v))} />
        <Bar dataKey="used_bytes" name="Storage" fill={colors.storage} {...still} />
      </BarChart>
    </ChartCard>
  );
}

/** Names ranked by pulls and pushes, stacked (top repositories, most active users). */
function RankingChart<T extends { pulls: number; pushes: number }>(props: {
  title: string;
  empty: string;
  data: T[];
  name: string;
  width: number;
}) {
  return (
    <ChartCard title={props.title} empty={props.data.length === 0 && props.empty}>
      <BarChart data={props.data} layout="vertical" margin={{ left: 16 }}>
        <CartesianGrid strokeDasharray="3 3" horizontal={false} />
        <XAxis type="number" allowDecimals={false} />
        <YAxis type="category" dataKey={props.name} width={props.width} />
        <Tooltip />
        <Legend />
        <Bar dataKey="pulls" name="Pulls" stackId="a" fill={colors.pulls} {...still} />
        <Bar dataKey="pushes" name="Pushes" stackId="a" fill={colors.pushes} {...still} />
      </BarChart>
    </ChartCard>
  );
}

export function TopRepositoriesChart({ data }: { data: Insights['top_repositories'] }) {
  return (
    <RankingChart
      title="Top repositories"
      empty="No repository was pushed or pulled."
      data={data}
      name="repository_name"
      width={140}
    />
  );
}

export function TopUsersChart({ data }: { data: Insights['top_users'] }) {
  return (
    <RankingChart
      title="Most active users"
      empty="No signed-in user pushed or pulled."
      data={data}
      name="username"
      width={110}
    />
  );
}

const severities = ['critical', 'high', 'medium', 'low', 'unknown'] as const;

/** Open vulnerabilities per day by severity, once scanning reports them. */
export function VulnerabilityChart({ data }: { data: Insights['vulnerabilities'] }) {
  const none = data.every((d) => severities.every((s) => d[s] === 0));
  return (
    <ChartCard
      title="Vulnerability trend"
      empty={none && 'No vulnerability counts yet: they appear here once artifacts are scanned.'}
      wide
    >
      <BarChart data={data}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="date" tickFormatter={shortDate} minTickGap={12} />
        <YAxis allowDecimals={false} width={40} />
        <Tooltip />
        <Legend />
        {severities.map((s) => (
          <Bar
            key={s}
            dataKey={s}
            name={s[0]!.toUpperCase() + s.slice(1)}
            stackId="v"
            fill={colors[s]}
            {...still}
          />
        ))}
      </BarChart>
    </ChartCard>
  );
}
