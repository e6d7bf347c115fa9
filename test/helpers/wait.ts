/**
 * Polls `probe` until it returns a value other than undefined/false; fails after `timeoutMs` naming `what`.
 * The default is generous (30 s) because CI runs two files at once on two cores: a passing wait returns at
 * once, and only a failing one waits it out.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Reads back what a UI step just saved: the UI showed it only after Berth answered the write, so the first
 * read should find it. Twice under load on PostgreSQL (session 16, not reproduced alone) a read right after
 * did not, so this repeats it (5 s at most) and prints a line naming `what` when the first read was late,
 * with what `evidence` says the reads saw. (The clean-up one was the GC form's own race, fixed in session
 * 17: docs/web-ui.md, "Forms over saved settings".)
 */
export async function readBack<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 5_000,
  evidence: () => string = () => '',
): Promise<T> {
  const started = Date.now();
  let reads = 0;
  const value = await waitFor(
    what,
    () => {
      reads++;
      return probe();
    },
    timeoutMs,
  );
  if (reads > 1)
    console.error(`[read-back] ${what}: ${reads - 1} late read(s), ${Date.now() - started} ms ${evidence()}`);
  return value;
}
