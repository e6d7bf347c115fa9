/**
 * The hashing thread (lib/hash-thread.ts starts it): SHA-256/512 over chunks that are views on shared
 * memory, so the serving thread hands a chunk over without copying it and goes on with the socket and file
 * writes while this thread hashes. Each wake-up drains every message queued, and answers them in one message:
 * the chunks hashed (their memory may be reused) and the digests asked for.
 *
 * Each message brings a SharedArrayBuffer object of this thread's own that keeps the shared memory alive
 * until this thread's garbage collector drops it, and this thread allocates too little for that to happen
 * by itself: the slabs the serving thread let go stayed resident (55-150 MiB after a cold pull, growing
 * from one pull to the next: docs/proxy-cache.md). So the thread collects once it has been idle a moment.
 */
import { createHash, type Hash } from 'node:crypto';
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { collectGarbage } from './lib/collect-garbage.js';
import type { FromHashThread, ToHashThread } from './lib/hash-thread.js';

const port = (workerData as { port: MessagePort }).port;
const hashes = new Map<number, Hash>();
const idleMs = 500;
let idle: NodeJS.Timeout | undefined;

port.on('message', (first: ToHashThread) => {
  const answer: FromHashThread = { hashed: [], digests: [] };
  for (let m: ToHashThread | undefined = first; m; m = receiveMessageOnPort(port)?.message as ToHashThread) {
    try {
      handle(m, answer);
    } catch (err) {
      hashes.delete(m.id);
      answer.digests.push([m.id, '', (err as Error).message]);
    }
  }
  port.postMessage(answer);
  if (idle) idle.refresh();
  else {
    idle = setTimeout(() => {
      idle = undefined;
      collectGarbage();
    }, idleMs);
    idle.unref();
  }
});

function handle(m: ToHashThread, answer: FromHashThread): void {
  switch (m.op) {
    case 'update': {
      let hash = hashes.get(m.id);
      if (!hash) hashes.set(m.id, (hash = createHash(m.algorithm)));
      hash.update(new Uint8Array(m.memory, m.offset, m.length));
      if (m.seq >= 0) answer.hashed.push(m.seq);
      return;
    }
    case 'digest': {
      const hash = hashes.get(m.id) ?? createHash(m.algorithm);
      hashes.delete(m.id);
      answer.digests.push([m.id, hash.digest('hex')]);
      return;
    }
    case 'drop':
      hashes.delete(m.id);
  }
}
