import { dayMs, type RuleTemplate } from './rule.js';

/** Retains artifacts pushed strictly after X days ago (Harbor's older `lastXDays`, registered unlisted). */
export const lastXDays: RuleTemplate = {
  id: 'lastXDays',
  displayText: 'pushed in the last # days',
  unit: 'DAYS',
  max: 20_190_904,
  listed: false,
  create: (x, now) => {
    const since = now.getTime() - x * dayMs;
    return { kind: 'filter', keeps: (c) => c.pushTime > since };
  },
};
