import { dayMs, type RuleTemplate } from './rule.js';

/** Retains artifacts pulled within the last N days; one never pulled is not retained by this rule. */
export const nDaysSinceLastPull: RuleTemplate = {
  id: 'nDaysSinceLastPull',
  displayText: 'pulled within the last # days',
  unit: 'DAYS',
  max: 20_190_904,
  listed: true,
  create: (n, now) => {
    const since = now.getTime() - n * dayMs;
    return { kind: 'filter', keeps: (c) => c.pullTime > 0 && c.pullTime >= since };
  },
};
