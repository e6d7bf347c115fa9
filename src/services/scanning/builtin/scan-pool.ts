import { fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { BerthConfig } from '../../../config/schema.js';
import { childMallocEnv } from '../../../lib/malloc-arenas.js';
import { startThread, threadEntry } from '../../../lib/worker-thread.js';
import { CpuGovernor } from './cpu-governor.js';
import type { LayerOpener, ScanEngine, ScanPhase, ScanWork, ScanWorkResult } from './scan-work.js';

/**
 * A scan thread's own V8 heap (`scanning.isolation: thread`): its young generation 2 × 4 MiB semi-spaces
 * (4 MiB more counted for large objects), as the server's own cap (src/lib/young-generation.ts), which
 * does not reach a thread's heap; left to V8 it grew to 2 × 16 MiB. 2 × 8 until session 23: with both
 * caps halved the bench's thread-mode process peaked at 201.3 / 201.0 MiB against 209.7, scans as fast
 * (0.94-1.05 s without pulls either way). The old generation keeps V8's ceiling order of magnitude
 * (1 GiB): a scan that ran out would fail.
 */
export const scanThreadHeap = { maxYoungGenerationSizeMb: 12, maxOldGenerationSizeMb: 1024 };

/** What the pool tells a worker thread (src/scan-worker.ts). */
export type ToScanWorker =
  /** The governor grants a write: the process may run `budgetMs` of CPU before it asks again (write-gate.ts). */
  | { kind: 'write'; budgetMs: number }
  | {
      kind: 'run';
      work: ScanWork;
      databaseUrl: string;
      /** The storage the scanning process reads layers from itself (else it asks for their chunks). */
      storage?: BerthConfig['storage'];
      /** Write the report into the work's reports (the scanning process). */
      fill?: boolean;
      /** A CPU governor holds the process back: its writes ask it first (`writing`). */
      governed?: boolean;
    }
  | { kind: 'chunk'; stream: number; data?: Uint8Array; end?: true; error?: string };

/** What a worker thread answers: a request for the next chunk of a layer it opened (`stream`), or the outcome. */
export type FromScanWorker =
  | { kind: 'pull'; stream: number; digest: string }
  | { kind: 'done'; result: ScanWorkResult }
  | { kind: 'failed'; message: string }
  /** The scanning process asks to write (`on`; the governor answers `write`) or is done writing. */
  | { kind: 'writing'; on: boolean };

/**
 * The governor's period, and the CPU the rest of the machine must use to count as busy: an idle server
 * answering a scan's overview polls uses a few per cent of a core, 8 clients pulling use more than one.
 */
const governorPeriodMs = 100;
const governorBusyCores = 0.5;
/** The least CPU (cores) a governed scanning process gets on average, however small its share: scans end. */
const governorFloorCores = 0.05;

/**
 * The CPU (cores) each of `processes` scanning processes may use on average while the machine is busy,
 * for `cpuShareWhenBusy` of the machine's CPU (all its cores) between them; undefined: not governed.
 */
export function governedCores(share: number, processes: number, cores: number): number | undefined {
  if (share >= 1) return undefined;
  return Math.max(governorFloorCores, (share * cores) / processes);
}

/** What scanning processes spent, by phase of their scans (ms of CPU, all their threads), and on how many scans. */
export interface ScanCpuFigures {
  scans: number;
  cpuMs: Partial<Record<ScanPhase, number>>;
}

/** A scanning process or thread, as the pool speaks to it. */
interface ScanHost extends EventEmitter {
  post(m: ToScanWorker, transfer?: ArrayBuffer[]): void;
  terminate(): void;
  /** Keeps this process alive while a scan runs (an idle host does not). */
  hold(running: boolean): void;
  /** A scanning process's pid (a thread has none). */
  pid?: number | undefined;
}

interface Slot {
  worker: ScanHost;
  busy: boolean;
  /** Terminated, crashed or exited: replaced by a new thread at the next scan. */
  dead: boolean;
  idle?: NodeJS.Timeout;
  /** Holds a scanning process back while the machine is busy (`cpuShareWhenBusy`). */
  governor?: CpuGovernor | undefined;
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

  constructor(
    private readonly o: {
      size: number;
      databaseUrl: string;
      idleMs?: number;
      entry?: URL;
      /**
       * Scan in child processes (one per scan at once) niced as a whole, which read layers through a
       * driver of their own from this storage config (the memory driver's chunks come from here) and
       * write the reports themselves; without it, worker threads of this process.
       */
      processes?: { storage: BerthConfig['storage'] };
      /**
       * The scanning process or thread writes the report and ends the reports itself, over its own
       * database connection (default: with `processes`). Not for an in-memory database, which a thread's
       * connection of its own does not see.
       */
      fill?: boolean;
      /**
       * While the rest of the machine is busy, the scanning processes together are held to this share of
       * its CPU, all its cores (cpu-governor.ts; each at least `governorFloorCores`); 1 lets them run as
       * their nice value allows. Threads are not held.
       */
      cpuShareWhenBusy?: number;
      /** Counts the scanning processes' CPU by phase (for /metrics). */
      figures?: ScanCpuFigures;
    },
  ) {
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
    for (const s of this.slots.splice(0)) {
      s.governor?.stop();
      s.worker.terminate();
    }
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
        const worker = this.spawn();
        const slot: Slot = { worker, busy: true, dead: false, governor: this.governorOf(worker) };
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
    slot.governor?.stop();
    slot.worker.terminate();
  }

  /** A scanning process's governor; it hears the process's writes between scans too (the purge). */
  private governorOf(worker: ScanHost): CpuGovernor | undefined {
    if (worker.pid === undefined) return undefined;
    const share = governedCores(this.o.cpuShareWhenBusy ?? 1, this.o.size, availableParallelism());
    if (share === undefined) return undefined;
    const governor = new CpuGovernor(worker.pid, {
      share,
      busyCores: governorBusyCores,
      periodMs: governorPeriodMs,
      onGrant: (budgetMs) => worker.post({ kind: 'write', budgetMs }),
    });
    worker.on('message', (m: FromScanWorker) => {
      if (m.kind !== 'writing') return;
      if (m.on) governor.askWrite();
      else governor.wrote();
    });
    return governor;
  }

  private count(result: ScanWorkResult): void {
    const f = this.o.figures;
    if (!f || !result.cpuMs) return;
    f.scans++;
    for (const [phase, ms] of Object.entries(result.cpuMs) as [ScanPhase, number][])
      f.cpuMs[phase] = (f.cpuMs[phase] ?? 0) + ms;
  }

  private spawn(): ScanHost {
    const entry = this.o.entry ?? threadEntry('scan-worker');
    if (this.o.processes) return scanProcess(entry);
    const worker = startThread(entry, 'berth-scan', undefined, scanThreadHeap);
    worker.unref();
    return Object.assign(worker, {
      post: (m: ToScanWorker, transfer?: ArrayBuffer[]) => worker.postMessage(m, transfer),
      terminate: () => void Worker.prototype.terminate.call(worker),
      hold: (running: boolean) => (running ? worker.ref() : worker.unref()),
    });
  }

  private runOn(slot: Slot, work: ScanWork, open: LayerOpener, signal: AbortSignal): Promise<ScanWorkResult> {
    const { worker } = slot;
    const layers = new Map<number, { stream: Readable; chunks: AsyncIterator<Buffer> }>();
    const { governor } = slot;
    return new Promise<ScanWorkResult>((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | undefined, result?: ScanWorkResult) => {
        if (settled) return;
        settled = true;
        // A process killed (stopped, crashed) is forgotten; a live one is governed on while it purges.
        if (slot.dead) governor?.stop();
        else governor?.end();
        worker.hold(false);
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
        worker.terminate();
        settle(err);
      };
      const onAbort = () => kill(new Error('the scan was stopped'));
      const onError = (err: Error) => kill(new Error(`the scan thread failed: ${err.message}`));
      const onExit = (code: number) => kill(new Error(`the scan thread exited (code ${code})`));
      const send = (m: ToScanWorker, transfer?: ArrayBuffer[]) => worker.post(m, transfer);
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
        else if (m.kind === 'done') {
          this.count(m.result);
          settle(undefined, m.result);
        } else if (m.kind === 'failed') settle(new Error(m.message));
      };
      if (signal.aborted) return onAbort();
      worker.hold(true);
      governor?.start();
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      signal.addEventListener('abort', onAbort, { once: true });
      const storage = this.o.processes?.storage;
      send({
        kind: 'run',
        work,
        databaseUrl: this.o.databaseUrl,
        ...(storage && storage.driver !== 'memory' ? { storage } : {}),
        ...((this.o.fill ?? !!this.o.processes) ? { fill: true } : {}),
        ...(governor ? { governed: true } : {}),
      });
    });
  }
}

/**
 * Forks the scanning process: messages in Node's advanced serialization carry layer chunks as bytes; its
 * standard output and error are this process's. The process lowers the priority of each of its threads
 * itself once its modules are loaded (scan-worker.ts): `setPriority(pid)` from here would lower its main
 * thread only (Linux sets a thread's priority), and a start at nice 19 on a loaded machine took 15-40 s
 * of loading modules (under tsx) before the first scan.
 */
function scanProcess(entry: URL): ScanHost {
  const child = fork(entry, [], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...childMallocEnv() },
    // Under tsx the parent's loader flags carry over, so a TypeScript entry runs as is.
    execArgv: process.execArgv.filter((a) => !a.startsWith('--inspect') && !a.startsWith('--cpu-prof')),
  });
  child.unref();
  child.channel?.unref();
  const host = new EventEmitter() as ScanHost;
  child.on('message', (m) => host.emit('message', m));
  child.on('error', (err) => host.emit('error', err));
  child.on('exit', (code, signal) => host.emit('exit', code ?? signal));
  host.post = (m) => {
    if (child.connected) child.send(m);
  };
  host.pid = child.pid;
  host.terminate = () => void child.kill('SIGKILL');
  host.hold = (running) => {
    if (running) {
      child.ref();
      child.channel?.ref();
    } else {
      child.unref();
      child.channel?.unref();
    }
  };
  return host;
}
