import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root: a child script runs there, so that `tsx` and the project's modules resolve. */
const root = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildScriptOptions {
  /** Node's flags before `--import tsx` (`--expose-gc`, `--allow-natives-syntax`, ...). */
  nodeFlags?: string[];
  timeoutMs?: number;
}

/**
 * Runs `source` (TypeScript, an ES module) in a Node process of its own, for what a test must measure or
 * set apart from the runner's process (RSS, V8's heap, its flags), and returns the JSON of the last line
 * the script printed. A script that exits non-zero fails the test with its stderr.
 */
export function runChildScript<T>(source: string, options: ChildScriptOptions = {}): T {
  const dir = mkdtempSync(join(tmpdir(), 'berth-child-'));
  try {
    const script = join(dir, 'child.mts');
    writeFileSync(script, source);
    const run = spawnSync(process.execPath, [...(options.nodeFlags ?? []), '--import', 'tsx', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 60_000,
    });
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout.trim().split('\n').pop()!) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A module of the project, by a URL relative to the caller's (`import.meta.url`), as a child script imports it. */
export function moduleSpecifier(relative: string, base: string): string {
  return JSON.stringify(new URL(relative, base).href);
}
