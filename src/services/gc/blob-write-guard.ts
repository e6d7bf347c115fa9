import type { MetaStore } from '../../db/store.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { PathNotFoundError, type StorageDriver } from '../../storage/driver.js';
import { layout } from '../../storage/layout.js';

export interface BlobWriteGuardOptions {
  store: Pick<MetaStore, 'blobs' | 'gc'>;
  storage: StorageDriver;
  clock: Clock;
  /** How long a writer waits for a garbage collector to finish deleting the blob it wants to write. */
  waitMs?: number;
  /** A mark this old belongs to a collector that died: the writer finishes the deletion itself. */
  staleMarkMs?: number;
}

/**
 * The writers' half of GC's fence (docs/gc.md). Before bytes are written at a blob's path (upload
 * completion, manifest PUT), the blob row is reserved: its version bumped, so no collector marks it
 * within the grace period. When a collector has already marked it, its bytes may vanish at any moment,
 * so the writer waits until the row is gone and only then writes.
 */
export class BlobWriteGuard {
  private readonly waitMs: number;
  private readonly staleMarkMs: number;

  constructor(private readonly o: BlobWriteGuardOptions) {
    this.waitMs = o.waitMs ?? 30_000;
    this.staleMarkMs = o.staleMarkMs ?? 5 * 60_000;
  }

  async reserve(digest: string, size: number, manifest = false): Promise<void> {
    const deadline = Date.now() + this.waitMs;
    for (let pause = 5; ; pause = Math.min(pause * 2, 200)) {
      const now = this.o.clock.now();
      const res = await this.o.store.blobs.reserve(digest, size, now.toISOString(), manifest);
      if (res.reserved) return;
      if (now.getTime() - Date.parse(res.mark) > this.staleMarkMs) {
        await deleteBlobBytes(this.o.storage, digest);
        await this.o.store.gc.removeMarked(digest);
        continue;
      }
      if (Date.now() > deadline) {
        throw new AppError('UNAVAILABLE', `blob ${digest} is being garbage collected; retry the request`);
      }
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}

/** Deletes a blob's bytes; absent bytes are fine (a run that died may have deleted them already). */
export async function deleteBlobBytes(storage: StorageDriver, digest: string): Promise<void> {
  await storage.delete(layout.blobDir(digest)).catch((err: unknown) => {
    if (!(err instanceof PathNotFoundError)) throw err;
  });
}
