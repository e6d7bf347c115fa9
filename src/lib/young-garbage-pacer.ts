import { collectYoungGarbage } from './collect-garbage.js';

/**
 * Runs a young-generation collection after every `everyBytes` of short-lived buffers counted.
 *
 * Node's HTTP server hands a request body over in chunks of up to 64 KiB, each a fresh buffer allocated
 * with malloc outside V8's heap (a copy of a socket read). A chunk is garbage as soon as the file write has
 * taken it, but its memory goes back only when V8 collects the small object that holds it, and V8 runs a
 * young-generation collection only once its young generation is full or 32 MiB of such buffers sit in it;
 * a chunk still queued for the disk at that moment survives, and after a second one is promoted and waits
 * for a full collection. So a 64 MiB push left tens of MiB of dead chunks in glibc's heap, whose free
 * chunks glibc keeps resident: the proxy-cache row's whole-life peak was in its pushes (issue 15,
 * docs/benchmarks.md "Peak RSS per process"). Collected every few MiB instead, the same few MiB of malloc'd
 * memory are reused over and over. A scavenge whose objects are nearly all dead takes well under a
 * millisecond.
 */
export class YoungGarbagePacer {
  private counted = 0;

  constructor(
    private readonly everyBytes: number,
    private readonly collect: () => void = collectYoungGarbage,
  ) {}

  /** Counts `bytes`; collects once `everyBytes` were counted since the last collection. */
  add(bytes: number): void {
    this.counted += bytes;
    if (this.counted < this.everyBytes) return;
    this.counted = 0;
    this.collect();
  }
}
