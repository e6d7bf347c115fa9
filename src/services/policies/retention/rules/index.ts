import { always } from './always.js';
import { lastXDays } from './last-x-days.js';
import { latestActiveK } from './latest-active-k.js';
import { latestPulledN } from './latest-pulled-n.js';
import { latestPushedK } from './latest-pushed-k.js';
import { nDaysSinceLastPull } from './n-days-since-last-pull.js';
import { nDaysSinceLastPush } from './n-days-since-last-push.js';
import type { RuleTemplate } from './rule.js';

/** Every rule template by id, in the order GET /retentions/metadatas lists them. */
export const ruleTemplates: ReadonlyMap<string, RuleTemplate> = new Map(
  [
    latestPushedK,
    latestPulledN,
    nDaysSinceLastPush,
    nDaysSinceLastPull,
    always,
    latestActiveK,
    lastXDays,
  ].map((t) => [t.id, t]),
);
