import type { Readable } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { startThread, threadEntry } from '../../../lib/worker-thread.js';
import type { LayerOpener, ScanEngine, ScanWork, ScanWorkResult } from './scan-work.js';

/** What the pool tells a worker thread (src/scan-worker.ts). */
export type ToScanWorker =
  | { kind: 'run'; work: ScanWork; databaseUrl: string }
  | { kind: 'chunk'; stream: number; data?: Uint8Array; end?: true; error?: string };

/** What a worker thread answers: a request for the next chunk of a layer it opened (`stream`), or the outcome. */
export type FromScanWorker =
  | { kind: 'pull'; stream: number; digest: string }
  | { kind: 'done'; result: ScanWorkResult }
  | { kind: 'failed'; message: string };

interface Slot {
  worker: Worker;
  busy: boolean;
  /** Terminated, crashed or exited: replaced by a new thread at the next scan. */
  dead: boolean;
  idle?: NodeJS.Timeout;
}

/**
 * Built-in scans in worker threads, so that decompressing layers, walking their tars, parsing package
 * databases and matching (including the vulnerability database reads, on the thread's own connection)
 * never hold the event loop that serves pulls. The layers' bytes still come from this thread's
 * StorageDriver (any driver, S3 and memory too): the worker asks for each chunk when its gunzip wants
 * more, so one chunk per layer is in flight and nothing is buffered whole.
 *
 * At most `size` threads run, started at the first scan and ended after `idleMs` without one (a node
 * that never scans holds none); further scans wait for a free thread. Stopping a scan terminates its
 * thread at once (the CPU is freed mid-layer) and the next scan starts a fresh one.
 */
export class ScanPool implements ScanEngine {
  private readonly slots: Slot[] = [];
  private readonly waiting: Array<() => void> = [];
  private closed = false;

  constructor(private readonly o: { size: number; databaseUrl: string; idleMs?: number; entry?: URL }) {
    if (o.size < 1) throw new Error('a scan pool needs at least one thread');
  }

  async run(work: ScanWork, open: LayerOpener, signal: AbortSignal): Promise<ScanWorkResult> {
    const slot = await this.acquire(signal);
    try {
      return await this.runOn(slot, work, open, signal);
    } finally {
      this.release(slot);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }

  private async acquire(signal: AbortSignal): Promise<Slot> {
    for (;;) {
      signal.throwIfAborted();
      if (this.closed) throw new Error('the scan pool is closed');
      const free = this.slots.find((s) => !s.busy && !s.dead);
      if (free) {
        clearTimeout(free.idle);
        free.busy = true;
        return free;
      }
      if (this.slots.length < this.o.size) {
        const slot: Slot = { worker: this.spawn(), busy: true, dead: false };
        this.slots.push(slot);
        return slot;
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.waiting.push(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  }

  private release(slot: Slot): void {
    slot.busy = false;
    if (slot.dead) this.slots.splice(this.slots.indexOf(slot), 1);
    else {
      slot.idle = setTimeout(() => this.retire(slot), this.o.idleMs ?? 60_000);
      slot.idle.unref();
    }
    this.waiting.shift()?.();
  }

  private retire(slot: Slot): void {
    if (slot.busy || slot.dead) return;
    slot.dead = true;
    this.slots.splice(this.slots.indexOf(slot), 1);
    void slot.worker.terminate();
  }

  private spawn(): Worker {
    const worker = startThread(this.o.entry ?? threadEntry('scan-worker'), 'berth-scan');
    worker.unref();
    return worker;
  }

  private runOn(slot: Slot, work: ScanWork, open: LayerOpener, signal: AbortSignal): Promise<ScanWorkResult> {
    const { worker } = slot;
    const layers = new Map<number, { stream: Readable; chunks: AsyncIterator<Buffer> }>();
    return new Promise<ScanWorkResult>((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | undefined, result?: ScanWorkResult) => {
        if (settled) return;
        settled = true;
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        signal.removeEventListener('abort', onAbort);
        for (const { stream } of layers.values()) stream.destroy();
        if (err) reject(err);
        else resolve(result!);
      };
      const kill = (err: Error) => {
        slot.dead = true;
        void worker.terminate();
        settle(err);
      };
      const onAbort = () => kill(new Error('the scan was stopped'));
      const onError = (err: Error) => kill(new Error(`the scan thread failed: ${err.message}`));
      const onExit = (code: number) => kill(new Error(`the scan thread exited (code ${code})`));
      const send = (m: ToScanWorker, transfer?: ArrayBuffer[]) => worker.postMessage(m, transfer);
      const pull = async (id: number, digest: string) => {
        try {
          let layer = layers.get(id);
          if (!layer) {
            const stream = await open(digest);
            layer = { stream, chunks: (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]() };
            layers.set(id, layer);
          }
          const next = await layer.chunks.next();
          if (settled) return;
          if (next.done) return send({ kind: 'chunk', stream: id, end: true });
          // A copy the thread owns: storage chunks may be slices of a shared pool.
          const data = new Uint8Array(next.value);
          send({ kind: 'chunk', stream: id, data }, [data.buffer]);
        } catch (err) {
          if (!settled) send({ kind: 'chunk', stream: id, error: (err as Error).message });
        }
      };
      const onMessage = (m: FromScanWorker) => {
        if (m.kind === 'pull') void pull(m.stream, m.digest);
        else if (m.kind === 'done') settle(undefined, m.result);
        else settle(new Error(m.message));
      };
      if (signal.aborted) return onAbort();
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      signal.addEventListener('abort', onAbort, { once: true });
      send({ kind: 'run', work, databaseUrl: this.o.databaseUrl });
    });
  }
}
