import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';

/** Linux's number for the SCHED_IDLE policy (sched.h), as /proc shows a thread's policy. */
export const schedIdle = 5;

/** The calling thread's id on Linux (from /proc/thread-self); undefined elsewhere. */
export function threadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/** The scheduling policy of a thread of this process (Linux: the 41st field of its stat); undefined elsewhere. */
export function schedPolicyOf(tid: number): number | undefined {
  try {
    // The command name (field 2) may hold spaces: the fields after it start at the state (field 3).
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const policy = Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[41 - 3]);
    return Number.isInteger(policy) ? policy : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Puts the calling thread under Linux's SCHED_IDLE policy: it runs on CPU time no other thread wants, and
 * a CPU that runs only such threads counts as free when the kernel places a thread that wakes up. Node has
 * no call for it, so util-linux's `chrt` sets it by thread id (an unprivileged process may lower a thread
 * of its own to SCHED_IDLE; it cannot raise it back). True when the thread is now SCHED_IDLE; false where
 * that cannot be done (not Linux, no `chrt`, a sandbox that refuses it), the thread then runs as before.
 */
export function idleThisThread(): boolean {
  const tid = threadId();
  if (tid === undefined) return false;
  try {
    execFileSync('chrt', ['--idle', '--pid', '0', String(tid)], { stdio: 'ignore', timeout: 5000 });
  } catch {
    return false;
  }
  return schedPolicyOf(tid) === schedIdle;
}
