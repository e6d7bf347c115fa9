import { close, read } from 'node:fs';
import { Readable } from 'node:stream';
import type { RecyclingReadable } from '../lib/recycling.js';

/**
 * Buffers of one size kept for reuse. A stream has its own by default; streams of the same chunk size can
 * share one, so memory a finished pull handed back serves the next pull instead of being collected.
 * With `idleMs`, the pool looks at itself that often once it holds spares: spares that stayed unused the
 * whole time go (those below the fewest it held meanwhile), and a pool nothing took from lets them all go
 * (then calls `onIdle`). Under a steady load it keeps as many as the load hands back and takes again, so
 * the pulls read into the same memory rather than allocating and leaving garbage for V8 to find; after a
 * busy spell it does not keep its buffers for good. `shared` buffers are views on SharedArrayBuffers (another
 * thread may read them without a copy: lib/hash-thread.ts).
 */
export class SparePool {
  private readonly spare: Buffer[] = [];
  private taken = 0;
  /** The fewest spares held since the last look: that many were not needed meanwhile. */
  private fewest = 0;
  private sweep: NodeJS.Timeout | undefined;

  constructor(
    readonly chunkSize: number,
    private readonly limit: number,
    private readonly idleMs?: number,
    private readonly onIdle?: () => void,
    private readonly shared = false,
  ) {}

  get size(): number {
    return this.spare.length;
  }

  take(): Buffer {
    this.taken++;
    const buf = this.spare.pop();
    if (this.spare.length < this.fewest) this.fewest = this.spare.length;
    if (buf) return buf;
    return this.shared
      ? Buffer.from(new SharedArrayBuffer(this.chunkSize))
      : Buffer.allocUnsafeSlow(this.chunkSize);
  }

  give(memory: ArrayBufferLike): void {
    if (this.spare.length >= this.limit) return;
    this.spare.push(Buffer.from(memory, 0, this.chunkSize));
    if (this.idleMs !== undefined && !this.sweep) this.watch(this.idleMs, this.taken);
  }

  private watch(ms: number, takenBefore: number): void {
    this.fewest = this.spare.length;
    this.sweep = setTimeout(() => {
      this.sweep = undefined;
      if (this.taken === takenBefore) {
        this.spare.length = 0;
        this.onIdle?.();
        return;
      }
      this.spare.length -= Math.min(this.fewest, this.spare.length);
      if (this.spare.length > 0) this.watch(ms, this.taken);
    }, ms);
    this.sweep.unref();
  }
}

/**
 * Reads bytes [start, end) of an open file descriptor in chunks of up to `chunkSize`, with callback
 * reads on the thread pool. Chunks handed back through `recycle` are read into again. Owns the
 * descriptor: closes it once, after any read in progress, on end, error or destroy.
 */
export class FileReadStream extends Readable implements RecyclingReadable {
  private pos: number;
  private reading = false;
  private closeAfterRead: (() => void) | undefined;
  /** Memory of the chunks now with the consumer, which it may hand back. */
  private readonly out = new WeakSet<ArrayBufferLike>();

  constructor(
    private readonly fd: number,
    start: number,
    private readonly end: number,
    private readonly chunkSize: number,
    private readonly spares: SparePool = new SparePool(chunkSize, 4),
  ) {
    super({ highWaterMark: chunkSize });
    if (spares.chunkSize !== chunkSize) throw new Error('spare pool of another chunk size');
    this.pos = start;
  }

  override _read(): void {
    const want = Math.min(this.chunkSize, this.end - this.pos);
    if (want <= 0) {
      this.push(null);
      return;
    }
    const buf = this.spares.take();
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
    if (this.out.delete(chunk.buffer)) this.spares.give(chunk.buffer);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const done = () => close(this.fd, () => callback(err));
    if (this.reading) this.closeAfterRead = done;
    else done();
  }
}
