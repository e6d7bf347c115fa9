import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { projectInsightsQuery } from '../../api/insights';
import { QueryState } from '../../components/ui';
import { ActivityChart, StorageTrendChart, TopRepositoriesChart } from './charts';
import { RangePicker } from './insights-page';

/** The project summary's charts: its pulls and pushes, its storage over time, its busiest repositories. */
export function ProjectInsights({ projectId }: { projectId: number }) {
  const [days, setDays] = useState(30);
  const query = useQuery(projectInsightsQuery(projectId, days));
  return (
    <section className="project-insights" aria-label="Project activity">
      <div className="page-head">
        <h2>Activity</h2>
        <RangePicker days={days} onChange={setDays} />
      </div>
      <QueryState query={query}>
        {(o) => (
          <div className="chart-grid">
            <ActivityChart data={o.activity} />
            <StorageTrendChart data={o.storage} />
            <TopRepositoriesChart data={o.top_repositories} />
          </div>
        )}
      </QueryState>
    </section>
  );
}
