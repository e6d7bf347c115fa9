import { dayMs, type RuleTemplate } from './rule.js';

/** Retains artifacts pushed within the last N days. */
export const nDaysSinceLastPush: RuleTemplate = {
  id: 'nDaysSinceLastPush',
  displayText: 'pushed within the last # days',
  unit: 'DAYS',
  max: 20_190_904,
  listed: true,
  create: (n, now) => {
    const since = now.getTime() - n * dayMs;
    return { kind: 'filter', keeps: (c) => c.pushTime >= since };
  },
};
