import type { RuleTemplate } from './rule.js';

/** Retains every artifact its selectors choose. */
export const always: RuleTemplate = {
  id: 'always',
  displayText: 'always',
  listed: true,
  create: () => ({ kind: 'filter', keeps: () => true }),
};
