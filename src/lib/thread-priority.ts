import { constants, getPriority, setPriority } from 'node:os';

/** A thread kept at the lowest CPU priority, raised to its normal one while it holds a shared lock. */
export interface BackgroundPriority {
  /** Back to the normal priority (nested calls count). */
  raise(): void;
  /** Down again once every `raise` has been matched, unless behind. */
  lower(): void;
  /** While behind (its work waits too long at the lowest priority), the thread keeps the normal one. */
  behind(yes: boolean): void;
  isBehind(): boolean;
}

/**
 * Puts the calling thread at the lowest CPU priority (Linux ranks threads, not processes: 0 is the
 * calling thread), so it takes only the CPU that other threads leave idle, and lets it take its normal
 * priority back while it holds a lock that requests wait for (SQLite's write lock): a thread lowered for
 * good would hold it while the scheduler leaves it aside, and every push would wait. A thread that may
 * not raise its priority again (no CAP_SYS_NICE and RLIMIT_NICE 0, as in most containers) is not lowered,
 * beyond the one step the probe costs: undefined then.
 */
export function backgroundPriority(): BackgroundPriority | undefined {
  let normal: number;
  try {
    normal = getPriority(0);
    setPriority(0, Math.min(normal + 1, constants.priority.PRIORITY_LOW));
  } catch {
    return undefined;
  }
  try {
    setPriority(0, normal);
    setPriority(0, constants.priority.PRIORITY_LOW);
  } catch {
    return undefined;
  }
  let depth = 0;
  let late = false;
  let current = constants.priority.PRIORITY_LOW;
  const apply = () => {
    const want = depth > 0 || late ? normal : constants.priority.PRIORITY_LOW;
    if (want === current) return;
    try {
      setPriority(0, want);
      current = want;
    } catch {
      // the thread ends, or lost the right: it stays where it is
    }
  };
  return {
    raise: () => {
      depth++;
      apply();
    },
    lower: () => {
      if (depth > 0) depth--;
      apply();
    },
    behind: (yes) => {
      late = yes;
      apply();
    },
    isBehind: () => late,
  };
}
