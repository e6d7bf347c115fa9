// A node:test reporter that writes each test file's wall time, in seconds, as JSON: from the moment the
// runner starts the file's process to its last event. scripts/test.mjs adds it when BERTH_TEST_DURATIONS
// names the output file.
import { performance } from 'node:perf_hooks';

export default async function* durations(source) {
  const started = new Map();
  const ended = new Map();
  for await (const event of source) {
    const file = event.data?.file;
    if (!file) continue;
    const now = performance.now();
    if (event.type === 'test:dequeue' && event.data.name === file && !started.has(file))
      started.set(file, now);
    ended.set(file, now);
  }
  const cwd = `${process.cwd()}/`;
  const out = {};
  for (const [file, start] of started) {
    out[file.startsWith(cwd) ? file.slice(cwd.length) : file] =
      Math.round((ended.get(file) - start) / 100) / 10;
  }
  yield `${JSON.stringify(out, null, 1)}\n`;
}
