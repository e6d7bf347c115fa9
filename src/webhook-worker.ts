/**
 * The webhook delivery thread (services/webhooks/delivery-thread.ts starts it), over a database
 * connection of its own (SQLite's WAL lets it read beside the server's connection and `begin immediate`
 * queues its writes; PostgreSQL gives it its own sessions). Events are claimed, sent and recorded in
 * batches (event-batches.ts); the deliveries written as jobs (retries, and first tries a slow target held
 * back) run in a job worker that claims only `webhook.deliver`. Both send through kept-alive connections
 * and one per-target cap.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { connect, sideConnectionCacheKiB } from './db/connect.js';
import { openStore } from './db/open-store.js';
import { JobQueue } from './jobs/queue.js';
import { JobWorker } from './jobs/worker.js';
import { systemClock } from './lib/clock.js';
import { createLogger } from './lib/logger.js';
import {
  claimBatchEvents,
  claimGapMs,
  claimWindowMs,
  deliveryLookMs,
  eventSpillMs,
  eventsInFlight,
  type DeliveryThreadInit,
  type FromDeliveryThread,
  type ToDeliveryThread,
} from './services/webhooks/delivery-thread.js';
import { EventBatches } from './services/webhooks/event-batches.js';
import { TargetGate } from './services/webhooks/target-gate.js';
import { webhookDeliverJob } from './jobs/kinds/webhook.js';
import { WebhookSender } from './services/webhooks/webhook-sender.js';
import { idleThisThread } from './lib/thread-priority.js';

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
// One cap per target over the batches' first tries and the job worker's retries.
const gate = new TargetGate(init.retry.perTarget);
const queue = new JobQueue({ store, clock: systemClock });
queue.register(
  webhookDeliverJob(init.retry, (p, ctx) => gate.run(p.address, () => sender.send(p, ctx), ctx.signal)),
);
// The worker runs the deliveries written as jobs (retries, and those a slow target held back).
const worker: JobWorker = new JobWorker({
  ...{ store, queue, clock: systemClock, log, workers: 0, concurrency: init.concurrency },
  ...{ leaseMs: init.leaseMs, pollMs: init.pollMs, thread: { lingerMs: init.lingerMs } },
});
worker.start();
// Deliveries are background work: at SCHED_IDLE the thread takes only CPU time nothing else wants, and a
// CPU it runs on counts as free when the kernel places the threads that serve requests (docs/webhooks.md).
// An idle thread whose claims find events `starvedMs` old, or whose record held the database `slowHoldMs`,
// says so; the serving thread then hands over to a thread at normal priority (delivery-thread.ts), which
// goes idle again after a while.
const startedAt = Date.now();
let idle = false;
let starved = false;
const goIdle = () => {
  idle = idleThisThread();
  if (!idle) log.debug('the webhook delivery thread keeps normal priority: SCHED_IDLE could not be set');
};
if (init.idleAfterMs === 0) goIdle();
else if (init.idleAfterMs !== null) setTimeout(goIdle, init.idleAfterMs).unref();
const claimed = (rows: readonly { creation_time: string }[]) => {
  if (!idle || starved) return;
  let oldest = Infinity;
  for (const r of rows) oldest = Math.min(oldest, Date.parse(r.creation_time));
  // A backlog written before this thread started (a restart, a node that was down) is no sign of hunger.
  if (!(oldest >= startedAt)) return;
  const lagMs = Date.now() - oldest;
  if (lagMs < init.starvedMs) return;
  starved = true;
  send({ kind: 'starved', what: 'events waited', ms: lagMs });
};
// Preempted inside its record's transaction, an idle thread keeps SQLite's write lock from the pushes
// until a CPU is free (no priority inheritance for a file lock): one such hold hands over too.
const held = (ms: number) => {
  if (!idle || starved || ms < init.slowHoldMs) return;
  starved = true;
  send({ kind: 'starved', what: 'a record held the database', ms });
};

// The events: claimed, sent and recorded in batches.
const batches = new EventBatches({
  ...{ store, clock: systemClock, log, gate, retry: init.retry },
  post: (address, headers, body, o) => sender.post(address, headers, body, o),
  ...{ leaseMs: init.leaseMs, pollMs: init.pollMs, lingerMs: claimWindowMs },
  ...{ spillMs: eventSpillMs, maxEvents: eventsInFlight },
  queued: () => worker.wake(),
  ...{ claimed, held },
});
batches.start();

// The serving thread counts its commits that wrote events (delivery-thread.ts: the batch window). Claims
// are `claimGapMs` apart at least; events that come fast (at their rate since the last claim, a quarter of
// a batch or more within the window) wait for a batch's worth, or for the window to pass since the last
// claim.
const commits = new Int32Array(init.commits);
let seen = Atomics.load(commits, 0);
let lastClaim = performance.now();
const look = setInterval(() => {
  const now = Atomics.load(commits, 0);
  if (now === seen) return;
  const pending = (now - seen) | 0;
  const since = performance.now() - lastClaim;
  const fast = pending * claimWindowMs >= (claimBatchEvents / 4) * since;
  if (pending < claimBatchEvents && since < (fast ? claimWindowMs : claimGapMs)) return;
  seen = now;
  lastClaim += since;
  batches.wake();
}, deliveryLookMs);

port.on('message', (m: ToDeliveryThread) => {
  if (m.kind === 'stop') queue.stopped(m.jobId);
  else void close();
});

let closing: Promise<void> | undefined;
function close(): Promise<void> {
  return (closing ??= closeOnce());
}

async function closeOnce(): Promise<void> {
  clearInterval(look);
  try {
    await batches.close();
    await worker.close();
    sender.close();
    await stopListening();
    await handle.close();
  } finally {
    send({ kind: 'closed' });
  }
}
