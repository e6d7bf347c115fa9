import { close, read } from 'node:fs';
import { Readable } from 'node:stream';
import type { RecyclingReadable } from '../lib/recycling.js';

/** Buffers kept for reuse per stream; more than this in flight and the stream allocates afresh. */
const spareLimit = 4;

/**
 * Reads bytes [start, end) of an open file descriptor in chunks of up to `chunkSize`, with callback
 * reads on the thread pool. Chunks handed back through `recycle` are read into again. Owns the
 * descriptor: closes it once, after any read in progress, on end, error or destroy.
 */
export class FileReadStream extends Readable implements RecyclingReadable {
  private pos: number;
  private reading = false;
  private closeAfterRead: (() => void) | undefined;
  private readonly spare: Buffer[] = [];
  /** Memory of the chunks now with the consumer, which it may hand back. */
  private readonly out = new WeakSet<ArrayBufferLike>();

  constructor(
    private readonly fd: number,
    start: number,
    private readonly end: number,
    private readonly chunkSize: number,
  ) {
    super({ highWaterMark: chunkSize });
    this.pos = start;
  }

  override _read(): void {
    const want = Math.min(this.chunkSize, this.end - this.pos);
    if (want <= 0) {
      this.push(null);
      return;
    }
    const buf = this.spare.pop() ?? Buffer.allocUnsafeSlow(this.chunkSize);
    this.reading = true;
    read(this.fd, buf, 0, want, this.pos, (err, n) => {
      this.reading = false;
      if (this.closeAfterRead) return this.closeAfterRead();
      if (err) return void this.destroy(err);
      // The file is shorter than the size recorded for it: fail rather than send a short body.
      if (n === 0) return void this.destroy(new Error(`file ended at byte ${this.pos} of ${this.end}`));
      this.pos += n;
      this.out.add(buf.buffer);
      this.push(n === buf.length ? buf : buf.subarray(0, n));
    });
  }

  recycle(chunk: Buffer): void {
    // Only memory this stream handed out, and only once per hand-out.
    if (!this.out.delete(chunk.buffer) || this.spare.length >= spareLimit) return;
    this.spare.push(Buffer.from(chunk.buffer, 0, this.chunkSize));
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const done = () => close(this.fd, () => callback(err));
    if (this.reading) this.closeAfterRead = done;
    else done();
  }
}
