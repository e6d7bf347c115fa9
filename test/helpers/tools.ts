import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

/** True when CI demands every peer (a missing tool is then a failure, not a skip). */
export const requireAll = process.env.BERTH_REQUIRE_ALL === '1';

export function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Returns the tools that are missing. Locally the test is skipped with a loud message; under
 * BERTH_REQUIRE_ALL=1 (CI) a missing tool fails the test.
 */
export function needTools(t: TestContext, ...names: string[]): boolean {
  const missing = names.filter((n) => !hasTool(n));
  if (missing.length === 0) return true;
  const message = `MISSING TOOL(S): ${missing.join(', ')} — install the Debian packages (see .ci/run)`;
  if (requireAll) throw new Error(`${message}; BERTH_REQUIRE_ALL=1 forbids skipping`);
  process.stderr.write(`\n*** SKIPPED: ${message} ***\n`);
  t.skip(message);
  return false;
}
