/**
 * Idle RSS: a fresh `node dist/server/main.js serve` (empty data folder, SQLite + filesystem, default config)
 * serving nothing. Its VmRSS is read 5 s after it first answers, then once a second until `settleSeconds`:
 * the settled figure is what the node holds while it stays idle (V8's memory reducer runs on an idle
 * heap 10-20 s after start). Target: under 90 MiB (issue 15).
 *
 * Standalone: `node --import tsx bench/idle-rss.ts` (after `npx tsc -p tsconfig.build.json && node scripts/bundle.mjs`); also the
 * bench's `idle-rss` row.
 */
import { pathToFileURL } from 'node:url';
import { rssOf, startBerthProcess } from './berth-process.js';

export interface IdleRssResult {
  /** VmRSS 5 s after the node first answered. */
  afterStartBytes: number;
  /** The lowest VmRSS read until settleSeconds after start (the node holds no more than this at rest). */
  settledBytes: number;
  settleSeconds: number;
}

export const idleRssTargetBytes = 90 * 2 ** 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function idleRss(settleSeconds = 30): Promise<IdleRssResult> {
  // No bench project: creating it would verify the admin's password (argon2), which a node serving
  // nothing never does.
  const berth = await startBerthProcess({ benchProject: false, label: 'idle-rss' });
  try {
    await sleep(5_000);
    const afterStartBytes = rssOf(berth.pid);
    let settledBytes = afterStartBytes;
    for (let s = 5; s < settleSeconds; s++) {
      await sleep(1_000);
      settledBytes = Math.min(settledBytes, rssOf(berth.pid));
    }
    return { afterStartBytes, settledBytes, settleSeconds };
  } finally {
    await berth.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await idleRss();
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  process.stdout.write(
    `idle RSS of a fresh Berth: ${mib(r.afterStartBytes)} 5 s after start, ${mib(r.settledBytes)} settled (${r.settleSeconds} s); target < ${mib(idleRssTargetBytes)}\n`,
  );
}
