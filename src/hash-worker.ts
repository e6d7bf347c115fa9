/**
 * The hashing thread (lib/hash-thread.ts starts it): SHA-256/512 over chunks that are views on shared
 * memory, so the serving thread hands a chunk over without copying it and goes on with the socket and file
 * writes while this thread hashes. Each wake-up drains every message queued, and answers them in one message:
 * the chunks hashed (their memory may be reused) and the digests asked for.
 */
import { createHash, type Hash } from 'node:crypto';
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { FromHashThread, ToHashThread } from './lib/hash-thread.js';

const port = (workerData as { port: MessagePort }).port;
const hashes = new Map<number, Hash>();

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
