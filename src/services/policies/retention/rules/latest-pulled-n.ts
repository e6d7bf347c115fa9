import type { RuleTemplate } from './rule.js';

/** Retains the N most recently pulled artifacts (never-pulled ones rank last but still fill the N). */
export const latestPulledN: RuleTemplate = {
  id: 'latestPulledN',
  displayText: 'the most recently pulled # artifacts',
  unit: 'COUNT',
  max: 32_766,
  listed: true,
  create: (n) => ({ kind: 'rank', limit: n, rank: (c) => c.pullTime }),
};
