import type { RuleTemplate } from './rule.js';

/** Retains the K artifacts most recently pushed or pulled, whichever is later (Harbor registers it unlisted). */
export const latestActiveK: RuleTemplate = {
  id: 'latestActiveK',
  displayText: 'the most recently pushed or pulled # artifacts',
  unit: 'COUNT',
  max: 32_766,
  listed: false,
  create: (k) => ({ kind: 'rank', limit: k, rank: (c) => Math.max(c.pushTime, c.pullTime) }),
};
