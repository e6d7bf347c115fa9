import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { getHeapSpaceStatistics } from 'node:v8';
import { startThread } from './worker-thread.js';
import { capYoungGeneration, youngGenerationCapBytes } from './young-generation.js';

const youngBytes = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;

/**
 * Short-lived objects with some survivors, as a server allocates; the most the young generation held.
 * V8 doubles the young generation after scavenges that find it full (uncapped, it reaches 2 × 16 MiB on this
 * workload). Each turn of the event loop allocates about 0.6 MiB, as a request handler might: the cap is
 * applied between turns (a `gc` entry), so a turn that runs several scavenges could double twice before it
 * applies. Turns of 100,000 objects did that about once in twenty runs (32 MiB reached).
 */
async function allocateLikeAServer(): Promise<number> {
  let most = 0;
  let keep: object[] = [];
  for (let round = 0; round < 400; round++) {
    for (let i = 0; i < 10_000; i++) {
      keep.push({ i, s: `x${i}` });
      if (keep.length > 20_000) keep = [];
    }
    most = Math.max(most, youngBytes());
    await new Promise((r) => setImmediate(r));
  }
  return most;
}

test('the young generation grows under allocation up to its cap, and no further', async () => {
  const cap = capYoungGeneration();
  try {
    const start = youngBytes();
    assert.ok(start < youngGenerationCapBytes, `starts below the cap (${start} bytes)`);
    assert.equal(Math.max(start, await allocateLikeAServer()), youngGenerationCapBytes);
  } finally {
    cap.stop();
  }
});

test('a worker thread started meanwhile does not lift the cap', async () => {
  // Starting a thread puts V8's growth factor back to 2 for the whole process: without the cap set again,
  // this workload grew the young generation to 2 × 16 MiB (session 22, issue 15).
  const dir = mkdtempSync(join(tmpdir(), 'berth-young-'));
  const entry = join(dir, 'idle-thread.mjs');
  writeFileSync(entry, 'setTimeout(() => {}, 300);\n');
  const cap = capYoungGeneration();
  try {
    const thread = startThread(pathToFileURL(entry), 'idle');
    // Listened to from the start: on a loaded machine the allocations outlast the thread's 300 ms, and
    // an exit that came before its listener left this test waiting on nothing (cancelled in CI).
    const exited = new Promise((resolve) => thread.once('exit', resolve));
    await new Promise((resolve) => thread.once('online', resolve));
    const most = Math.max(youngBytes(), await allocateLikeAServer());
    await exited;
    assert.ok(most <= youngGenerationCapBytes, `the young generation reached ${most / 2 ** 20} MiB`);
  } finally {
    cap.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
