import type { MessagePort, Worker } from 'node:worker_threads';
import { MessageChannel } from 'node:worker_threads';
import type { DigestAlgorithm } from '../oci/digest.js';
import { startThread, threadEntry } from './worker-thread.js';

export type ToHashThread =
  | {
      op: 'update';
      id: number;
      algorithm: DigestAlgorithm;
      memory: SharedArrayBuffer;
      offset: number;
      length: number;
      /** Answered in `hashed` once hashed (the memory may be reused then); -1: a copy, not answered. */
      seq: number;
    }
  | { op: 'digest'; id: number; algorithm: DigestAlgorithm }
  | { op: 'drop'; id: number };

export interface FromHashThread {
  hashed: number[];
  /** [id, hex] or, when hashing failed, [id, '', message]. */
  digests: [number, string, string?][];
}

/** How far the thread may fall behind one hash before its fetch waits (memory held for it). */
const hashAhead = 8 << 20;
/**
 * Adjacent chunks of one shared buffer go over together, up to this much: a message costs the same for
 * 4 KiB as for 1 MiB (a wake-up of the thread), and the chunks of a turn of reads are ~64 KiB apart.
 */
const postBytes = 512 * 1024;
/** The thread needs no heap to speak of: the bytes it hashes are shared memory outside it. */
const threadHeap = { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 };

/**
 * SHA-256/512 on a thread of its own (src/hash-worker.ts), for proxied blobs: the serving thread hands over
 * chunks that are views on shared memory (remotes/pooled-get.ts reads the upstream into SharedArrayBuffer
 * slabs), nothing is copied, and the hash runs beside the socket and file writes instead of before them.
 * On the event loop it was half of a cold pull's work (docs/proxy-cache.md). One thread serves every hash of
 * the process; it starts with the first one, and a failed thread fails the hashes in flight (their fetches
 * then fail: nothing unverified is stored) and is started again for the next.
 */
export class HashThread {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  /** Bumped when a thread dies: hashers of an earlier thread can no longer give a digest. */
  private generation = 0;
  private nextId = 1;
  private nextSeq = 0;
  private readonly held = new Map<number, () => void>();
  private readonly asked = new Map<
    number,
    { resolve: (hex: string) => void; reject: (err: Error) => void }
  >();

  /** A new hash on the thread; undefined when the thread cannot be started (the caller hashes itself). */
  hasher(algorithm: DigestAlgorithm): ThreadHasher | undefined {
    try {
      this.ensure();
    } catch {
      return undefined;
    }
    return new ThreadHasher(this, this.nextId++, algorithm, this.generation);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.lost(new Error('the hashing thread was closed'));
    await worker?.terminate();
  }

  /** @internal */
  post(m: ToHashThread, hashed?: () => void): void {
    if (m.op === 'update' && hashed) {
      m.seq = this.nextSeq++;
      this.held.set(m.seq, hashed);
    }
    this.port!.postMessage(m);
  }

  /** @internal */
  ask(id: number, algorithm: DigestAlgorithm, generation: number): Promise<string> {
    if (generation !== this.generation || !this.port)
      return Promise.reject(new Error('the hashing thread failed during the hash'));
    return new Promise<string>((resolve, reject) => {
      this.asked.set(id, { resolve, reject });
      this.port!.postMessage({ op: 'digest', id, algorithm } satisfies ToHashThread);
    });
  }

  /** @internal */
  alive(generation: number): boolean {
    return generation === this.generation && this.port !== undefined;
  }

  private ensure(): void {
    if (this.port) return;
    const { port1, port2 } = new MessageChannel();
    const worker = startThread(threadEntry('hash-worker'), 'berth-hash', { port: port2 }, threadHeap, [
      port2,
    ]);
    worker.unref();
    port1.unref();
    port1.on('message', (m: FromHashThread) => this.answered(m));
    const die = (err: Error) => {
      if (this.worker === worker) this.lost(err);
    };
    worker.once('error', die);
    worker.once('exit', (code) => die(new Error(`the hashing thread exited (${code})`)));
    this.worker = worker;
    this.port = port1;
  }

  private answered(m: FromHashThread): void {
    for (const seq of m.hashed) {
      const done = this.held.get(seq);
      this.held.delete(seq);
      done?.();
    }
    for (const [id, hex, error] of m.digests) {
      const waiter = this.asked.get(id);
      this.asked.delete(id);
      if (error !== undefined) waiter?.reject(new Error(error));
      else waiter?.resolve(hex);
    }
  }

  private lost(err: Error): void {
    this.generation++;
    this.port?.close();
    this.port = undefined;
    this.worker = undefined;
    // The thread reads no memory any more: what it held may be reused.
    for (const done of this.held.values()) done();
    this.held.clear();
    for (const waiter of this.asked.values()) waiter.reject(err);
    this.asked.clear();
  }
}

/** One running hash on the hashing thread. */
export class ThreadHasher {
  /** Bytes handed to the thread and not hashed yet. */
  pending = 0;
  private waiters: (() => void)[] = [];
  /** Adjacent shared chunks not sent yet, and what to run once each is hashed. */
  private run:
    { memory: SharedArrayBuffer; offset: number; length: number; hashed: (() => void)[] } | undefined;

  constructor(
    private readonly thread: HashThread,
    private readonly id: number,
    private readonly algorithm: DigestAlgorithm,
    private readonly generation: number,
  ) {}

  /**
   * Hashes `chunk` next. A view on shared memory goes over as it is (with the adjacent chunks before it
   * in the same memory, once they add up to `postBytes` or the next chunk is elsewhere), and `hashed`
   * runs once the thread is done with it (the memory must not change before); other memory is copied, and
   * `hashed` runs at once.
   */
  update(chunk: Buffer, hashed: () => void): void {
    if (!this.thread.alive(this.generation)) return hashed();
    if (chunk.buffer instanceof SharedArrayBuffer) {
      const run = this.run;
      if (run && run.memory === chunk.buffer && run.offset + run.length === chunk.byteOffset) {
        run.length += chunk.length;
        run.hashed.push(hashed);
      } else {
        this.flush();
        this.run = { memory: chunk.buffer, offset: chunk.byteOffset, length: chunk.length, hashed: [hashed] };
      }
      if (this.run!.length >= postBytes) this.flush();
      return;
    }
    this.flush();
    const copy = new SharedArrayBuffer(chunk.length);
    chunk.copy(new Uint8Array(copy));
    this.thread.post({ ...this.base(), memory: copy, offset: 0, length: chunk.length });
    hashed();
  }

  /** What the hash waits for when the thread is more than `below` bytes behind; undefined when it is not. */
  behind(): Promise<void> | undefined {
    if (this.pending <= hashAhead || !this.thread.alive(this.generation)) return undefined;
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** The hex digest of everything handed over. */
  digest(): Promise<string> {
    this.flush();
    return this.thread.ask(this.id, this.algorithm, this.generation);
  }

  /** Forgets the hash (a failed fetch). */
  drop(): void {
    const run = this.run;
    this.run = undefined;
    for (const hashed of run?.hashed ?? []) hashed();
    if (this.thread.alive(this.generation)) this.thread.post({ op: 'drop', id: this.id });
    this.wake();
  }

  private base() {
    return { op: 'update' as const, id: this.id, algorithm: this.algorithm, seq: -1 };
  }

  /** Sends the chunks gathered in `run`. */
  private flush(): void {
    const run = this.run;
    if (!run) return;
    this.run = undefined;
    if (!this.thread.alive(this.generation)) return run.hashed.forEach((h) => h());
    this.pending += run.length;
    this.thread.post({ ...this.base(), memory: run.memory, offset: run.offset, length: run.length }, () => {
      this.pending -= run.length;
      if (this.waiters.length > 0 && this.pending <= hashAhead) this.wake();
      for (const h of run.hashed) h();
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
