import { close, read } from 'node:fs';
import { Readable } from 'node:stream';
import type { RecyclingReadable } from '../lib/recycling.js';

/**
 * glibc serves an allocation of this size or more with a mapping of its own, and unmaps it when it is
 * freed: its dynamic mmap threshold never rises above 32 MiB on 64-bit. Smaller buffers (a pool's 1 MiB or
 * 128 KiB chunks, once the threshold has risen past them) come from its main heap, which gives memory
 * back only from its top: chunks freed after a busy spell stayed resident as holes among small
 * allocations (SQLite's pages, sockets' buffers), and the heap grew row by row through the bench (issue
 * 15, docs/benchmarks.md). A mapping's pages are resident only once written, so an arena costs what its
 * used slots hold.
 */
export const arenaBytes = 32 * 2 ** 20;

/** One mapping cut into slots of a pool's chunk size; `free` lists the slots not lent out. */
interface Arena {
  memory: ArrayBufferLike;
  free: number[];
  /** 1 for a slot in `free`. */
  isFree: Uint8Array;
  slots: number;
  /** A slot was lent since the pool's last look. */
  used: boolean;
}

export interface SparePoolOptions {
  /** Spares unused this long go; all of them once nothing was taken meanwhile (then `onIdle`). */
  idleMs?: number;
  onIdle?: () => void;
  /** Views on SharedArrayBuffers (another thread may read them without a copy: lib/hash-thread.ts). */
  shared?: boolean;
  /** Slots of `arenaBytes` mappings instead of one buffer each (for chunks of 64 KiB or more). */
  arenas?: boolean;
}

/**
 * Buffers of one size kept for reuse. A stream has its own by default; streams of the same chunk size can
 * share one, so memory a finished pull handed back serves the next pull instead of being collected.
 * With `idleMs`, the pool looks at itself that often once it holds spares: spares that stayed unused the
 * whole time go (those below the fewest it held meanwhile), and a pool nothing took from lets them all go
 * (then calls `onIdle`). Under a steady load it keeps as many as the load hands back and takes again, so
 * the pulls read into the same memory rather than allocating and leaving garbage for V8 to find; after a
 * busy spell it does not keep its buffers for good.
 *
 * With `arenas`, the buffers are slots of `arenaBytes` mappings, at most `limit` slots in all (beyond
 * that a buffer of its own, dropped when handed back). A slot handed back stays with its arena, the
 * first arena with a free slot lends it (the slot handed back last), and an arena goes as a whole: at a look,
 * when none of its slots was lent since the last one, or when the pool is idle. Its memory then goes back
 * to the system once V8 collects it (`onIdle` runs a full collection), instead of staying in malloc's heap.
 */
export class SparePool {
  private readonly spare: Buffer[] = [];
  private readonly arenas: Arena[] = [];
  private readonly slotsPerArena: number;
  private taken = 0;
  /** The fewest spares held since the last look: that many were not needed meanwhile. */
  private fewest = 0;
  private sweep: NodeJS.Timeout | undefined;
  private readonly idleMs: number | undefined;
  private readonly onIdle: (() => void) | undefined;
  private readonly shared: boolean;

  constructor(
    readonly chunkSize: number,
    private readonly limit: number,
    options: SparePoolOptions = {},
  ) {
    this.idleMs = options.idleMs;
    this.onIdle = options.onIdle;
    this.shared = options.shared ?? false;
    this.slotsPerArena = options.arenas ? Math.floor(arenaBytes / chunkSize) : 0;
  }

  /** Buffers held and not lent out (with arenas: the free slots of the arenas held). */
  get size(): number {
    if (this.slotsPerArena === 0) return this.spare.length;
    return this.arenas.reduce((n, a) => n + a.free.length, 0);
  }

  /** Arenas held (0 without `arenas`). */
  get arenaCount(): number {
    return this.arenas.length;
  }

  take(): Buffer {
    this.taken++;
    if (this.slotsPerArena > 0) return this.takeSlot();
    const buf = this.spare.pop();
    if (this.spare.length < this.fewest) this.fewest = this.spare.length;
    if (buf) return buf;
    return this.fresh(this.chunkSize);
  }

  /** Hands back a buffer `take` lent (or a view that starts where it starts). */
  give(chunk: Buffer): void {
    if (this.slotsPerArena > 0) return this.giveSlot(chunk);
    if (this.spare.length >= this.limit) return;
    this.spare.push(Buffer.from(chunk.buffer, chunk.byteOffset, this.chunkSize));
    this.watchIfIdle();
  }

  private fresh(bytes: number): Buffer {
    return this.shared ? Buffer.from(new SharedArrayBuffer(bytes)) : Buffer.allocUnsafeSlow(bytes);
  }

  private takeSlot(): Buffer {
    let arena = this.arenas.find((a) => a.free.length > 0);
    if (!arena) {
      const slots = Math.min(this.slotsPerArena, this.limit - this.arenas.length * this.slotsPerArena);
      // Past `limit`: a buffer of its own, which `giveSlot` does not keep.
      if (slots <= 0) return this.fresh(this.chunkSize);
      // The whole size even when fewer slots are left: a smaller allocation may come from malloc's heap.
      const memory = this.fresh(arenaBytes).buffer;
      // Lowest slot last, so pop() lends it first.
      const free = Array.from({ length: slots }, (_, i) => slots - 1 - i);
      arena = { memory, slots, used: false, free, isFree: new Uint8Array(slots).fill(1) };
      this.arenas.push(arena);
    }
    arena.used = true;
    const slot = arena.free.pop()!;
    arena.isFree[slot] = 0;
    return Buffer.from(arena.memory, slot * this.chunkSize, this.chunkSize);
  }

  private giveSlot(chunk: Buffer): void {
    const arena = this.arenas.find((a) => a.memory === chunk.buffer);
    if (!arena) return;
    const slot = Math.floor(chunk.byteOffset / this.chunkSize);
    if (arena.isFree[slot] !== 0) return;
    arena.isFree[slot] = 1;
    // Last back, first lent: the slots in use stay the same few, resident ones.
    arena.free.push(slot);
    this.watchIfIdle();
  }

  private watchIfIdle(): void {
    if (this.idleMs !== undefined && !this.sweep) this.watch(this.idleMs, this.taken);
  }

  private watch(ms: number, takenBefore: number): void {
    this.fewest = this.spare.length;
    for (const a of this.arenas) a.used = false;
    this.sweep = setTimeout(() => {
      this.sweep = undefined;
      if (this.taken === takenBefore) {
        this.spare.length = 0;
        this.dropArenas(() => true);
        this.onIdle?.();
        return;
      }
      this.spare.length -= Math.min(this.fewest, this.spare.length);
      // An arena none of whose slots was lent meanwhile, and none is out: not needed now.
      this.dropArenas((a) => !a.used);
      if (this.spare.length > 0 || this.arenas.length > 0) this.watch(ms, this.taken);
    }, ms);
    this.sweep.unref();
  }

  /** Drops the arenas `which` picks among those with every slot back. */
  private dropArenas(which: (a: Arena) => boolean): void {
    for (let i = this.arenas.length - 1; i >= 0; i--) {
      const a = this.arenas[i]!;
      if (a.free.length === a.slots && which(a)) this.arenas.splice(i, 1);
    }
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
  /** Where the chunks now with the consumer start, by memory: it may hand them back. */
  private readonly out = new WeakMap<ArrayBufferLike, Set<number>>();

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
      const starts = this.out.get(buf.buffer);
      if (starts) starts.add(buf.byteOffset);
      else this.out.set(buf.buffer, new Set([buf.byteOffset]));
      this.push(n === buf.length ? buf : buf.subarray(0, n));
    });
  }

  recycle(chunk: Buffer): void {
    // Only memory this stream handed out, and only once per hand-out.
    if (this.out.get(chunk.buffer)?.delete(chunk.byteOffset)) this.spares.give(chunk);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const done = () => close(this.fd, () => callback(err));
    if (this.reading) this.closeAfterRead = done;
    else done();
  }
}
