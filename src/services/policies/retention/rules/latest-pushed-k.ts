import type { RuleTemplate } from './rule.js';

/** Retains the K most recently pushed artifacts. */
export const latestPushedK: RuleTemplate = {
  id: 'latestPushedK',
  displayText: 'the most recently pushed # artifacts',
  unit: 'COUNT',
  max: 32_766,
  listed: true,
  create: (k) => ({ kind: 'rank', limit: k, rank: (c) => c.pushTime }),
};
