import type { MetaStore, Repos } from '../db/store.js';
import type { Clock } from '../lib/clock.js';
import type { SettleBatch } from './kind.js';

export interface LogLine {
  time: string;
  line: string;
}

/** How one run ends, as the worker hands it over. */
export interface Settlement {
  jobId: number;
  /** Log lines written with the outcome, the closing line last. */
  lines: LogLine[];
  /** A success: settled with the batch's other successes in one statement. */
  plainSuccess?: boolean;
  /**
   * Anything else (retry, failure, outcome hooks), run in the batch's transaction; its result is
   * returned. Beside `plainSuccess`, it runs after the success is recorded, if the lease was still ours.
   */
  settle?: (tx: Repos, batch: SettleBatch) => Promise<unknown>;
}

interface Waiting extends Settlement {
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/**
 * Writes the outcomes of a worker's runs that end together in one transaction (a group commit): the log
 * lines in one statement, the plain successes in another, the rest one by one. Runs ending while a batch
 * commits wait for the next one. When a batch fails (an outcome hook threw) each run is settled alone, so
 * one run's failure never costs another its outcome.
 */
export class Settlements {
  private waiting: Waiting[] = [];
  private flushing = false;

  constructor(
    private readonly d: {
      store: Pick<MetaStore, 'transaction'>;
      clock: Clock;
      owner: string;
      /** How long a batch waits for more runs to end before it commits (default: the next turn). */
      lingerMs?: number;
    },
  ) {}

  /** Resolves once every outcome handed over so far is committed (or failed). */
  async drain(): Promise<void> {
    while (this.flushing) await new Promise((r) => setTimeout(r, 5));
  }

  /** Resolves once the outcome is committed, with what `settle` returned. */
  add(s: Settlement): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ ...s, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        const linger = this.d.lingerMs ?? 0;
        if (linger > 0) setTimeout(() => void this.flush(), linger);
        else setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting;
      this.waiting = [];
      try {
        const results = await this.write(batch);
        batch.forEach((s, i) => s.resolve(results[i]));
      } catch (err) {
        if (batch.length === 1) batch[0]!.reject(err);
        else
          for (const s of batch)
            await this.write([s]).then(
              ([r]) => s.resolve(r),
              (e: unknown) => s.reject(e),
            );
      }
    }
    this.flushing = false;
  }

  private write(batch: Settlement[]): Promise<unknown[]> {
    return this.d.store.transaction(async (tx) => {
      await tx.jobs.appendLogs(batch.flatMap((s) => s.lines.map((l) => ({ jobId: s.jobId, ...l }))));
      const plain = batch.filter((s) => s.plainSuccess).map((s) => s.jobId);
      const ours = new Set(
        await tx.jobs.finishSucceeded(plain, this.d.owner, this.d.clock.now().toISOString()),
      );
      const gathered = new Map<
        string,
        { value: unknown; flush: (tx: Repos, value: unknown) => Promise<void> }
      >();
      const shared: SettleBatch = {
        gather: <T>(key: string, make: () => T, flush: (tx: Repos, value: T) => Promise<void>): T => {
          let entry = gathered.get(key);
          if (!entry)
            gathered.set(
              key,
              (entry = { value: make(), flush: flush as (tx: Repos, v: unknown) => Promise<void> }),
            );
          return entry.value as T;
        },
      };
      const results: unknown[] = [];
      for (const s of batch) {
        const runs = s.settle && (!s.plainSuccess || ours.has(s.jobId));
        results.push(runs ? await s.settle!(tx, shared) : undefined);
      }
      for (const { value, flush } of gathered.values()) await flush(tx, value);
      return results;
    });
  }
}
