import type { Logger } from '../lib/logger.js';
import { listenForChanges } from './change-listener.js';
import type { DbHandle } from './connect.js';
import { ReadCache } from './read-cache.js';
import { MetaStore } from './store.js';

export interface OpenStore {
  store: MetaStore;
  cache: ReadCache;
  /** Stops listening for other nodes' changes (before the handle closes). */
  close(): Promise<void>;
}

/**
 * The server's MetaStore, with the push path's reads of rarely-changed rows (db/read-cache.ts) kept in
 * memory and dropped cluster-wide when they change: on PostgreSQL through a LISTEN connection that
 * migration 0025's triggers notify; on SQLite through `PRAGMA data_version`, which tells this process
 * that another connection to the file (`serve --workers`, `berth worker`, the webhook delivery thread)
 * committed something, and migration 0026's count of writes to the cached tables, which tells whether
 * that something touched them. Its own
 * writes drop the cache as they are made, on either database.
 */
export function openStore(handle: DbHandle, options: { url: string; log: Logger }): OpenStore {
  if (handle.dataVersion) {
    const read = handle.dataVersion;
    const epoch = handle.cacheEpoch ?? (() => NaN);
    let seen = read();
    let seenEpoch = epoch();
    // One look per turn of the event loop: a request's several cached reads (project, user, policies, …)
    // ask within one turn, and another process's commit is seen from the next turn, as a change heard
    // by PostgreSQL's LISTEN is. Each look is a statement (a read lock taken and released).
    let looked = false;
    const nextTurn = () => {
      looked = false;
    };
    const cache = new ReadCache({
      heard: true,
      changedElsewhere: () => {
        if (looked) return false;
        looked = true;
        setImmediate(nextTurn);
        let now: number;
        try {
          now = read();
        } catch {
          // The connection is iterating a streamed query (better-sqlite3 runs nothing else meanwhile):
          // unknown, so assume a change.
          return true;
        }
        if (now === seen) return false;
        seen = now;
        // Another connection committed; it matters only if it wrote a cached table (migration 0026 counts
        // those writes). Job bookkeeping (the webhook delivery thread's, other processes') does not.
        const count = epoch();
        if (count === seenEpoch) return false;
        seenEpoch = count;
        return true;
      },
    });
    return { store: new MetaStore(handle.db, cache), cache, close: () => Promise.resolve() };
  }
  const cache = new ReadCache({ heard: false });
  const listener = listenForChanges(options.url, cache, options.log);
  return { store: new MetaStore(handle.db, cache), cache, close: () => listener.close() };
}
