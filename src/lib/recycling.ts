import type { Readable } from 'node:stream';

/**
 * A byte stream whose chunks a consumer may hand back once it is done with them (for instance when the
 * socket has taken a chunk), so the stream reads the next bytes into the same memory. A consumer that
 * never hands chunks back gets an ordinary stream. Serving large blobs otherwise allocates a fresh
 * buffer per chunk, and that churn of memory outside the JavaScript heap is what makes V8 run full
 * garbage collections over and over while many pulls are in flight.
 */
export interface RecyclingReadable extends Readable {
  recycle(chunk: Buffer): void;
}

export function isRecycling(stream: Readable): stream is RecyclingReadable {
  return typeof (stream as Partial<RecyclingReadable>).recycle === 'function';
}
