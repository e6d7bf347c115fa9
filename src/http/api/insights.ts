import { z } from 'zod';
import type { DayRange, InsightOverview } from '../../services/insights/insight-service.js';
import { maxRangeDays } from '../../services/insights/insight-service.js';
import { maxProjectNameLength } from '../../services/projects/project-service.js';
import { requireAuthenticated } from './access.js';
import type { ApiDeps } from './deps.js';
import { projectFor } from './project.js';
import type { ApiRouter } from './router.js';

// Berth's own operations (Harbor has only /statistics): daily aggregates, see docs/insights.md.
const tag = 'insights';

const date = z.string().max(10).describe('UTC date, YYYY-MM-DD');
const rangeQuery = z.object({
  from: date.optional().describe('First day (UTC, YYYY-MM-DD); not with days'),
  to: date.optional().describe('Last day (UTC, YYYY-MM-DD); default today'),
  days: z.coerce
    .number()
    .int()
    .min(1)
    .max(maxRangeDays)
    .optional()
    .describe('How many days up to `to`; default 30'),
  top: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(10)
    .describe('How many top repositories, users and projects'),
});

const count = z.number().int();
const day = z.string().describe('UTC date, YYYY-MM-DD');
const counters = { pushes: count, pulls: count, deletes: count, push_bytes: count, pull_bytes: count };
const severities = { critical: count, high: count, medium: count, low: count, unknown: count };

const overviewModel = z.object({
  from: day,
  to: day,
  days: count,
  totals: z.object({ ...counters, active_users: count }),
  activity: z.array(z.object({ date: day, ...counters, active_users: count })),
  storage: z.array(z.object({ date: day, used_bytes: count })),
  storage_by_project: z.array(z.object({ project_id: count, project_name: z.string(), used_bytes: count })),
  top_repositories: z.array(
    z.object({
      project_id: count,
      project_name: z.string(),
      repository_name: z.string(),
      pushes: count,
      pulls: count,
      push_bytes: count,
      pull_bytes: count,
    }),
  ),
  top_users: z.array(z.object({ username: z.string(), pushes: count, pulls: count, active_days: count })),
  vulnerabilities: z.array(z.object({ date: day, ...severities })),
});

function render(o: InsightOverview, range: DayRange): z.infer<typeof overviewModel> {
  const c = (x: {
    pushes: number;
    pulls: number;
    deletes: number;
    pushBytes: number;
    pullBytes: number;
  }) => ({
    pushes: x.pushes,
    pulls: x.pulls,
    deletes: x.deletes,
    push_bytes: x.pushBytes,
    pull_bytes: x.pullBytes,
  });
  return {
    ...range,
    totals: { ...c(o.totals), active_users: o.totals.activeUsers },
    activity: o.activity.map((d) => ({ date: d.day, ...c(d), active_users: d.activeUsers })),
    storage: o.storage.map((d) => ({ date: d.day, used_bytes: d.usedBytes })),
    storage_by_project: o.storageByProject.map((p) => ({
      project_id: p.projectId,
      project_name: p.projectName,
      used_bytes: p.usedBytes,
    })),
    top_repositories: o.topRepositories.map((r) => ({
      project_id: r.projectId,
      project_name: r.projectName,
      repository_name: r.repository,
      pushes: r.pushes,
      pulls: r.pulls,
      push_bytes: r.pushBytes,
      pull_bytes: r.pullBytes,
    })),
    top_users: o.topUsers.map((u) => ({
      username: u.username,
      pushes: u.pushes,
      pulls: u.pulls,
      active_days: u.activeDays,
    })),
    vulnerabilities: o.vulnerabilities.map(({ day: d, ...s }) => ({ date: d, ...s })),
  };
}

export function insightsRoutes(api: ApiRouter, deps: ApiDeps): void {
  api.add({
    operationId: 'getInsights',
    tag,
    method: 'GET',
    path: '/insights',
    summary:
      'Daily pushes, pulls, bytes, active users, storage and vulnerabilities over a range: every project for a system admin, the projects the caller is a member of otherwise',
    query: rangeQuery,
    status: 200,
    response: overviewModel,
    handler: async ({ query }, request) => {
      const subject = await requireAuthenticated(request, deps.can);
      const { range, overview } = await deps.insights.overviewFor(subject, query, query.top);
      return render(overview, range);
    },
  });

  api.add({
    operationId: 'getProjectInsights',
    tag,
    method: 'GET',
    path: '/insights/projects/{project_name_or_id}',
    summary:
      "One project's daily pushes, pulls, bytes, active users, storage and vulnerabilities over a range",
    params: z.object({ project_name_or_id: z.string().min(1).max(maxProjectNameLength) }),
    query: rangeQuery,
    status: 200,
    response: overviewModel,
    handler: async ({ params, query }, request) => {
      const row = await projectFor(deps, request, params.project_name_or_id, 'read');
      const { range, overview } = await deps.insights.projectOverview(row.id, query, query.top);
      return render(overview, range);
    },
  });
}
