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
