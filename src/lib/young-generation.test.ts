import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getHeapSpaceStatistics } from 'node:v8';
import { capYoungGeneration, youngGenerationCapBytes } from './young-generation.js';

const youngBytes = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;

test('the young generation grows under allocation up to its cap, and no further', async () => {
  const cap = capYoungGeneration();
  try {
    const start = youngBytes();
    assert.ok(start < youngGenerationCapBytes, `starts below the cap (${start} bytes)`);
    let most = start;
    let keep: object[] = [];
    // Short-lived objects with some survivors, as a server allocates; V8 doubles the young generation
    // after scavenges that find it full (uncapped, it reaches 2 × 16 MiB on this workload).
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 100_000; i++) {
        keep.push({ i, s: `x${i}` });
        if (keep.length > 20_000) keep = [];
      }
      most = Math.max(most, youngBytes());
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(most, youngGenerationCapBytes);
  } finally {
    cap.stop();
  }
});
