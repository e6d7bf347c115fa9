/**
 * The webhook delivery thread (services/webhooks/delivery-thread.ts starts it): a job worker that claims
 * only `webhook.deliver` jobs, over a database connection of its own (SQLite's WAL lets it read beside
 * the server's connection and `begin immediate` queues its writes; PostgreSQL gives it its own sessions),
 * sends them with kept-alive connections, and commits claims and outcomes in batches every `lingerMs`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { connect, sideConnectionCacheKiB } from './db/connect.js';
import { openStore } from './db/open-store.js';
import { JobQueue } from './jobs/queue.js';
import { JobWorker } from './jobs/worker.js';
import { systemClock } from './lib/clock.js';
import { createLogger } from './lib/logger.js';
import type {
  DeliveryThreadInit,
  FromDeliveryThread,
  ToDeliveryThread,
} from './services/webhooks/delivery-thread.js';
import { webhookKinds } from './services/webhooks/webhook-fanout.js';
import { WebhookSender } from './services/webhooks/webhook-sender.js';

const port = parentPort!;
const init = workerData as DeliveryThreadInit;
const send = (m: FromDeliveryThread) => port.postMessage(m);
const log = createLogger(init.logLevel, {
  write: (line: string) => {
    send({ kind: 'log', line });
    return true;
  },
} as unknown as NodeJS.WritableStream);
const handle = connect({
  ...{ url: init.databaseUrl, poolMax: 2, acquireTimeoutMs: init.acquireTimeoutMs },
  cacheKiB: sideConnectionCacheKiB,
});
// Each event's fan-out reads its project and webhook policies: through the read cache, as the serving
// thread does (dropped when another connection writes them), not with two statements per event.
const { store, close: stopListening } = openStore(handle, { url: init.databaseUrl, log });
const sender = new WebhookSender(init.timeoutMs);
const queue = new JobQueue({ store, clock: systemClock });
const [eventKind, deliverKind] = webhookKinds({
  ...{ store, clock: systemClock, retry: init.retry, send: sender.send },
  enqueue: (tx, kind, jobs) => queue.enqueueMany(tx, kind, jobs),
  wake: () => worker.wake(),
});
queue.register(eventKind);
queue.register(deliverKind);
const worker: JobWorker = new JobWorker({
  ...{ store, queue, clock: systemClock, log, workers: 0, concurrency: init.concurrency },
  ...{ leaseMs: init.leaseMs, pollMs: init.pollMs, thread: { lingerMs: init.lingerMs } },
});
worker.start();

// The serving thread counts its commits that wrote deliveries; a change since the last look wakes the worker.
const commits = new Int32Array(init.commits);
let seen = Atomics.load(commits, 0);
const look = setInterval(() => {
  const now = Atomics.load(commits, 0);
  if (now === seen) return;
  seen = now;
  worker.wake();
}, init.lingerMs);

port.on('message', (m: ToDeliveryThread) => {
  if (m.kind === 'stop') queue.stopped(m.jobId);
  else void close();
});

async function close(): Promise<void> {
  clearInterval(look);
  try {
    await worker.close();
    sender.close();
    await stopListening();
    await handle.close();
  } finally {
    send({ kind: 'closed' });
  }
}
