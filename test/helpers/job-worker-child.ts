// A job worker as a separate process, so a test can SIGKILL it mid-job. Usage:
//   node --import tsx test/helpers/job-worker-child.ts <database-url> <owner> <leaseMs>
// Runs kind `test.block` (logs, then waits until aborted) and prints "ready" once polling.
import { connect } from '../../src/db/connect.js';
import { MetaStore } from '../../src/db/store.js';
import { testKind, testWorker, untilAborted } from './jobs.js';

const [url, owner, leaseMs] = process.argv.slice(2);
const handle = connect({ url: url!, poolMax: 4, acquireTimeoutMs: 5000 });
const store = new MetaStore(handle.db);
const block = testKind('test.block', async (_p, ctx) => {
  await ctx.log(`child ${process.pid} holds the job`);
  await untilAborted(ctx.signal);
});
const { worker } = testWorker({ store, kinds: [block], owner, leaseMs: Number(leaseMs), pollMs: 20 });
worker.start();
process.stdout.write('ready\n');
