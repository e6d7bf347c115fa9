import type { InsightScope, ProjectSnapshot, Severities } from '../../db/repos/insights.js';
import type { MetaStore } from '../../db/store.js';
import type { AccessControl } from '../access/access-control.js';
import type { Subject } from '../access/subject.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { dayOf } from './insight-recorder.js';
import { compareCodeUnits } from '../../lib/code-unit-order.js';

/** The longest range one read may cover. */
export const maxRangeDays = 366;

/** A range as the API takes it: `from`/`to` dates, or `days` back from `to` (default today). */
export interface RangeQuery {
  from?: string | undefined;
  to?: string | undefined;
  days?: number | undefined;
}

export interface DayRange {
  from: string;
  to: string;
  days: number;
}

const dayMs = 86_400_000;
const datePattern = /^\d{4}-\d{2}-\d{2}$/;

function parseDay(name: string, value: string): number {
  const t = Date.parse(`${value}T00:00:00Z`);
  if (!datePattern.test(value) || Number.isNaN(t) || dayOf(new Date(t)) !== value)
    throw new AppError('BAD_REQUEST', `${name} must be a date in the form YYYY-MM-DD, got "${value}"`);
  return t;
}

/** Resolves a range against today (UTC); BAD_REQUEST for bad dates, both `from` and `days`, or too long a range. */
export function resolveRange(q: RangeQuery, today: string): DayRange {
  if (q.from !== undefined && q.days !== undefined)
    throw new AppError('BAD_REQUEST', 'give either from or days, not both');
  const to = parseDay('to', q.to ?? today);
  const from = q.from !== undefined ? parseDay('from', q.from) : to - ((q.days ?? 30) - 1) * dayMs;
  if (from > to) throw new AppError('BAD_REQUEST', `from (${q.from}) is after to (${dayOf(new Date(to))})`);
  const days = Math.round((to - from) / dayMs) + 1;
  if (days > maxRangeDays)
    throw new AppError('BAD_REQUEST', `the range covers ${days} days; at most ${maxRangeDays} are allowed`);
  return { from: dayOf(new Date(from)), to: dayOf(new Date(to)), days };
}

function eachDay(range: DayRange): string[] {
  const first = Date.parse(`${range.from}T00:00:00Z`);
  return Array.from({ length: range.days }, (_, i) => dayOf(new Date(first + i * dayMs)));
}

/** Per day, the sum over projects of each project's last snapshot on or before that day. */
function carryForward<V>(
  days: string[],
  rows: ProjectSnapshot<V>[],
  zero: V,
  add: (a: V, b: V) => V,
): { day: string; value: V; latest: Map<number, V> }[] {
  const latest = new Map<number, V>();
  let i = 0;
  return days.map((day) => {
    while (i < rows.length && rows[i]!.day <= day) {
      latest.set(rows[i]!.projectId, rows[i]!.value);
      i++;
    }
    let value = zero;
    for (const v of latest.values()) value = add(value, v);
    return { day, value, latest: new Map(latest) };
  });
}

const noSeverities: Severities = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };

function addSeverities(a: Severities, b: Severities): Severities {
  return {
    critical: a.critical + b.critical,
    high: a.high + b.high,
    medium: a.medium + b.medium,
    low: a.low + b.low,
    unknown: a.unknown + b.unknown,
  };
}

/**
 * Reads the daily insight aggregates for a set of projects (everything for a system admin, a user's
 * projects otherwise, one project for the project page): activity per day, storage over time and by
 * project, the top repositories and users, and the vulnerability trend. Every day of the range is present.
 */
export class InsightService {
  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'insights'>;
      clock: Clock;
      access: Pick<AccessControl, 'visibleProjects'>;
    },
  ) {}

  /** Over every project for a system admin, the projects the subject is a member of otherwise. */
  async overviewFor(subject: Subject, q: RangeQuery, top: number) {
    const range = this.range(q);
    const visible = await this.deps.access.visibleProjects(subject);
    return { range, overview: await this.overview(visible === 'all' ? 'all' : [...visible.ids], range, top) };
  }

  /** One project's (the caller has checked it may read the project). */
  async projectOverview(projectId: number, q: RangeQuery, top: number) {
    const range = this.range(q);
    return { range, overview: await this.overview([projectId], range, top) };
  }

  range(q: RangeQuery): DayRange {
    return resolveRange(q, dayOf(this.deps.clock.now()));
  }

  async overview(scope: InsightScope, range: DayRange, top: number) {
    const { insights } = this.deps.store;
    const [daily, activeUsers, repositories, users, storage, vulnerabilities] = await Promise.all([
      insights.daily(scope, range.from, range.to),
      insights.activeUsers(scope, range.from, range.to),
      insights.topRepositories(scope, range.from, range.to, top),
      insights.topUsers(scope, range.from, range.to, top),
      insights.storage(scope, range.from, range.to),
      insights.vulnerabilities(scope, range.from, range.to),
    ]);
    const days = eachDay(range);
    const byDay = new Map(daily.map((d) => [d.day, d]));
    const activity = days.map(
      (day) =>
        byDay.get(day) ?? {
          day,
          pushes: 0,
          pulls: 0,
          deletes: 0,
          pushBytes: 0,
          pullBytes: 0,
          activeUsers: 0,
        },
    );
    const storageDays = carryForward(days, storage.rows, 0, (a, b) => a + b);
    const last = storageDays[storageDays.length - 1]!.latest;
    const byProject = [...last]
      .map(([projectId, usedBytes]) => ({ projectId, projectName: storage.names.get(projectId)!, usedBytes }))
      .sort((a, b) => b.usedBytes - a.usedBytes || compareCodeUnits(a.projectName, b.projectName))
      .slice(0, top);
    const totals = activity.reduce(
      (t, d) => ({
        pushes: t.pushes + d.pushes,
        pulls: t.pulls + d.pulls,
        deletes: t.deletes + d.deletes,
        pushBytes: t.pushBytes + d.pushBytes,
        pullBytes: t.pullBytes + d.pullBytes,
      }),
      { pushes: 0, pulls: 0, deletes: 0, pushBytes: 0, pullBytes: 0 },
    );
    return {
      range,
      totals: { ...totals, activeUsers },
      activity,
      storage: storageDays.map((d) => ({ day: d.day, usedBytes: d.value })),
      storageByProject: byProject,
      topRepositories: repositories,
      topUsers: users,
      vulnerabilities: carryForward(days, vulnerabilities, noSeverities, addSeverities).map((d) => ({
        day: d.day,
        ...d.value,
      })),
    };
  }
}

export type InsightOverview = Awaited<ReturnType<InsightService['overview']>>;
