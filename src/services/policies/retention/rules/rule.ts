/** An artifact as the rules see it; times in epoch milliseconds, 0 = never. */
export interface Candidate {
  id: number;
  digest: string;
  tags: string[];
  labels: string[];
  pushTime: number;
  pullTime: number;
}

/**
 * What a rule retains among the candidates its selectors chose: the `limit` highest by `rank` (ties: the
 * newer artifact), or each candidate `keeps` says yes to. Ranked rules need every candidate seen before
 * one can be decided, so the task reads the repository twice and keeps only the top `limit` in memory.
 */
export type Evaluator =
  | { kind: 'rank'; limit: number; rank(c: Candidate): number }
  | { kind: 'filter'; keeps(c: Candidate): boolean };

/** One of Harbor's rule templates (`rule_template`), with its parameter (named after the template). */
export interface RuleTemplate {
  id: string;
  /** Harbor's words, `#` standing for the parameter. */
  displayText: string;
  /** The parameter's unit, or none for a template without one. */
  unit?: 'COUNT' | 'DAYS';
  /** Largest accepted parameter value. */
  max?: number;
  /** Listed by GET /retentions/metadatas (Harbor registers two more templates that it does not list). */
  listed: boolean;
  create(n: number, now: Date): Evaluator;
}

export const dayMs = 86_400_000;
